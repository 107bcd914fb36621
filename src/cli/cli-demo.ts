import { defaultConfigDirectory, loadConfig } from '../config/config.loader.ts';
import type { IntegrationConfig, MapsyncConfig } from '../config/config.schema.ts';
import type { Logger } from '../observability/logger.ts';
import type { Demo } from '../service/demo.ts';
import { demoDecision } from '../service/demo-rule.ts';
import { UsageError, type CliRuntime } from './cli-runtime.ts';
import { loadIntegration } from './cli-integration.ts';

/**
 * DEMO_INTEGRATION_ID and DEMO_OZMAP_INTEGRATION_ID of src/service/demo.ts, which is loaded only
 * when the demo runs. `demo` names whichever demo MAPSYNC_DEMO_PLATFORM starts.
 */
const DEMO_ID = 'demo';
const DEMO_OZMAP_ID = 'demo-ozmap';

/**
 * Why the demo integration may not run from the CLI now, or null when it may. It runs only
 * when config/ has no integration (a configured one, even named "demo", wins), never when
 * MAPSYNC_DEMO=0, and only on the embedded database unless MAPSYNC_DEMO=1 asks for it on
 * DATABASE_URL: the demo writes fake ERP contracts, which must never land in a real database
 * by accident (issue 16).
 */
export function demoRefusal(config: MapsyncConfig, env: NodeJS.ProcessEnv): string | null {
  const decision = demoDecision(env, config.integrations.length);
  if (decision.demo || decision.reason === 'integrations_configured') return null;
  if (decision.reason === 'disabled') return 'the demo is disabled (MAPSYNC_DEMO=0) and config/ has no integration';
  return (
    `the demo runs only on the embedded database, and DATABASE_URL is set: it would write fake ERP contracts there. ` +
    `Unset DATABASE_URL to use the embedded database, or set MAPSYNC_DEMO=1 to run the demo on that database on purpose`
  );
}

/** True when `integrationId` names the demo (`demo`, `demo-ozmap`) and config/ has no integration. */
export function wantsDemo(config: MapsyncConfig, integrationId: string): boolean {
  return (integrationId === DEMO_ID || integrationId === DEMO_OZMAP_ID) && config.integrations.length === 0;
}

/**
 * Starts the demo's simulator for one CLI command and returns the config with the demo
 * integration in it. Throws UsageError (exit 2) when the demo may not run here.
 */
export async function startCliDemo(cli: CliRuntime, config: MapsyncConfig, logger: Logger): Promise<{ config: MapsyncConfig; demo: Demo }> {
  const refusal = demoRefusal(config, cli.env);
  if (refusal) throw new UsageError(`cannot run the demo integration: ${refusal}`);
  // Loaded only for the demo: the simulator is not needed by any other command.
  const { startDemo } = await import('../service/demo.ts');
  const demo = await startDemo({ logger, env: cli.env });
  return { config: { ...config, integrations: [demo.integration] }, demo };
}

/**
 * The integration a command names: from config/, or the demo when config/ has none and the
 * command names "demo" or "demo-ozmap" (then `demo` is set, and must be closed by the caller).
 */
export async function loadIntegrationOrDemo(
  cli: CliRuntime,
  integrationId: string,
  directory: string | undefined,
  logger: Logger,
): Promise<{ config: MapsyncConfig; integration: IntegrationConfig; demo: Demo | null }> {
  const { config } = loadConfig(directory ?? defaultConfigDirectory(cli.env), cli.env);
  if (!wantsDemo(config, integrationId)) return { ...loadIntegration(cli, integrationId, directory), demo: null };
  const started = await startCliDemo(cli, config, logger);
  if (integrationId !== DEMO_ID && integrationId !== started.demo.integration.id) {
    await started.demo.close();
    throw new UsageError(`"${integrationId}" is the OZmap demo: run it with MAPSYNC_DEMO_PLATFORM=ozmap, or name the running demo "demo"`);
  }
  return { config: started.config, integration: started.demo.integration, demo: started.demo };
}
