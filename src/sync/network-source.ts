import type { IntegrationConfig } from '../config/config.schema.ts';
import type { ResolvedProject } from './project-resolver.ts';

/**
 * Where an integration's network comes from: the platform, the API's host, and the project
 * (`link:<platform project id>` or `create:<name>`). The host leaves out the port and path: a
 * server moved to another port (the demo's simulator, on a new port at each start) is still
 * the same account.
 */
export interface NetworkSource {
  platform: string;
  apiHost: string;
  project: string;
}

export function networkSourceOf(integration: IntegrationConfig, project: ResolvedProject): NetworkSource {
  let apiHost: string;
  try {
    apiHost = new URL(integration.apiUrl).hostname.toLowerCase();
  } catch {
    apiHost = integration.apiUrl.toLowerCase();
  }
  return {
    platform: integration.platform,
    apiHost,
    project: project.mode === 'link' ? `link:${project.externalId ?? project.name}` : `create:${project.name}`,
  };
}

/**
 * Null when `current` is where the stored network came from (or nothing was stored from a known
 * source yet); otherwise the message a run records when it is refused: read from another
 * platform, account or project, every stored element would look gone.
 */
export function networkSourceChange(integrationId: string, stored: NetworkSource | null, current: NetworkSource): string | null {
  if (!stored) return null;
  const changed = (['platform', 'apiHost', 'project'] as const).filter((key) => stored[key] !== current[key]);
  if (changed.length === 0) return null;
  const describe = (s: NetworkSource) => `${s.platform} at ${s.apiHost}, project ${s.project}`;
  return (
    `integration "${integrationId}" changed source since its stored network was synced (${changed.join(', ')}): ` +
    `stored from ${describe(stored)}, now configured for ${describe(current)}. ` +
    `Nothing was changed. To replace the stored network with the new source's, run the sync with force ` +
    `(\`mapsync sync ${integrationId} --force\`, or {"force":true} in POST /v1/integrations/${integrationId}/sync); ` +
    `to keep both, give the new source an integration id of its own`
  );
}
