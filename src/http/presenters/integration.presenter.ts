import type { Knex } from 'knex';
import type { IntegrationConfig, MapsyncConfig } from '../../config/config.schema.ts';
import { nextRunAt, scheduleProblem } from '../../scheduler/cron-time.ts';
import { listRuns } from '../../sync/sync-runs.repository.ts';
import { presentRun, type RunView } from './run.presenter.ts';

export interface IntegrationView {
  id: string;
  platform: string;
  apiUrl: string;
  enabled: boolean;
  project: { mode: 'link' | 'create'; name: string; id: number | null; externalId: string | null };
  scope: { folders: string[] };
  elements: string[];
  schedule: { cron: string; timezone: string; scheduled: boolean; nextRunAt: string | null; error: string | null };
  lastRun: RunView | null;
}

/** The panel URL without any credentials that may have been typed into it. */
function safeUrl(value: string): string {
  try {
    const url = new URL(value);
    url.username = '';
    url.password = '';
    url.search = '';
    return url.toString().replace(/\/+$/, '');
  } catch {
    return value;
  }
}

/** An integration as the API shows it: config, project, last run and next scheduled run. Never the token. */
export async function presentIntegration(
  knex: Knex,
  config: MapsyncConfig,
  integration: IntegrationConfig,
  now = new Date(),
): Promise<IntegrationView> {
  const [project, runs] = await Promise.all([
    knex('projects')
      .where({ integration_id: integration.id })
      .first<{ id: number; external_id: string | null; name: string } | undefined>('id', 'external_id', 'name'),
    listRuns(knex, { integrationId: integration.id, limit: 1 }),
  ]);
  // The scheduler reads the schedule with this same function: a schedule it could not
  // start is shown here as not scheduled, with the reason, never with a next run.
  const problem = scheduleProblem(integration.schedule, integration.timezone, now);
  const scheduled = config.scheduler.enabled && integration.enabled && problem === null;
  const mode = 'link' in integration.project ? 'link' : 'create';
  const name = 'link' in integration.project ? integration.project.link : integration.project.create;
  return {
    id: integration.id,
    platform: integration.platform,
    apiUrl: safeUrl(integration.apiUrl),
    enabled: integration.enabled,
    project: { mode, name: project?.name ?? name, id: project ? Number(project.id) : null, externalId: project?.external_id ?? null },
    scope: { folders: integration.scope.folders },
    elements: integration.elements,
    schedule: {
      cron: integration.schedule,
      timezone: integration.timezone,
      scheduled,
      nextRunAt: scheduled ? (nextRunAt(integration.schedule, integration.timezone, now)?.toISOString() ?? null) : null,
      error: problem === null ? null : `schedule "${integration.schedule}" ${problem}`,
    },
    lastRun: runs[0] ? presentRun(runs[0]) : null,
  };
}
