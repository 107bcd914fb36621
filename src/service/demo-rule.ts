// Kept apart from demo.ts so that CLI commands can ask the rule without loading the simulator.

/** Shortest MAPSYNC_API_TOKEN accepted: a token an attacker cannot guess by trying. */
export const MIN_API_TOKEN_LENGTH = 16;

export type DemoDecision =
  | { demo: true; reason: 'embedded' | 'asked' }
  | { demo: false; reason: 'integrations_configured' | 'disabled' | 'real_database' };

/**
 * Whether mapsync runs its demo integration (simulated platform, fake ERP contracts, token
 * "demo"). The demo writes hundreds of fake contracts, so it never starts by itself on a
 * real database: only when no integration is configured AND either the database is the
 * embedded one (DATABASE_URL unset) or MAPSYNC_DEMO=1 asks for it. MAPSYNC_DEMO=0 turns it
 * off everywhere. `serve` and `mapsync sync demo` both follow this one rule.
 */
export function demoDecision(env: NodeJS.ProcessEnv, configuredIntegrations: number): DemoDecision {
  if (configuredIntegrations > 0) return { demo: false, reason: 'integrations_configured' };
  const asked = env.MAPSYNC_DEMO?.trim();
  if (asked === '0') return { demo: false, reason: 'disabled' };
  if (asked === '1') return { demo: true, reason: 'asked' };
  if (!env.DATABASE_URL) return { demo: true, reason: 'embedded' };
  return { demo: false, reason: 'real_database' };
}
