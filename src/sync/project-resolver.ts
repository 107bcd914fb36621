import type { Knex } from 'knex';
import type { IntegrationConfig } from '../config/config.schema.ts';
import type { PlatformProject } from '../domain/network.ts';
import type { PlatformAdapter, PlatformScope } from '../platforms/platform-adapter.ts';

export class ProjectNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProjectNotFoundError';
  }
}

export interface ResolvedProject {
  id: number;
  externalId: string;
  name: string;
  mode: 'link' | 'create';
}

const sameName = (a: string, b: string) => a.trim().toLocaleLowerCase('pt-BR') === b.trim().toLocaleLowerCase('pt-BR');

/**
 * The integration's one platform project. `link` finds an existing project by id or name
 * (a clear failure when there is none, or when a name is shared); `create` creates it on
 * the platform once and remembers it in `projects`. A project of that name already on the
 * platform is adopted rather than duplicated, so a run that died right after creating it
 * does not create a second one.
 */
export async function resolveProject(knex: Knex, integration: IntegrationConfig, adapter: PlatformAdapter): Promise<ResolvedProject> {
  const stored = (await knex('projects').where({ integration_id: integration.id }).first()) as
    | { id: number; external_id: string | null; name: string; mode: 'link' | 'create' }
    | undefined;

  let platformProject: PlatformProject;
  let mode: 'link' | 'create';
  if ('link' in integration.project) {
    mode = 'link';
    const wanted = integration.project.link;
    const projects = await adapter.listProjects();
    const byId = projects.find((p) => p.externalId === wanted);
    const byName = projects.filter((p) => sameName(p.name, wanted));
    if (byId) platformProject = byId;
    else if (byName.length === 1) platformProject = byName[0] as PlatformProject;
    else if (byName.length > 1) {
      throw new ProjectNotFoundError(
        `project "${wanted}" is ambiguous on ${integration.platform}: ${byName.length} projects have that name (ids ${byName.map((p) => p.externalId).join(', ')}); link it by id instead`,
      );
    } else {
      throw new ProjectNotFoundError(
        `project "${wanted}" (project.link) does not exist on ${integration.platform}; list the platform's projects with \`mapsync projects ${integration.id}\``,
      );
    }
  } else {
    mode = 'create';
    const wanted = integration.project.create;
    if (stored && stored.mode === 'create' && stored.external_id && sameName(stored.name, wanted)) {
      return { id: stored.id, externalId: stored.external_id, name: stored.name, mode };
    }
    const existing = (await adapter.listProjects()).filter((p) => sameName(p.name, wanted));
    platformProject = existing[0] ?? (await adapter.createProject(wanted));
  }

  if (stored && stored.external_id === platformProject.externalId && stored.name === platformProject.name && stored.mode === mode) {
    return { id: stored.id, externalId: platformProject.externalId, name: platformProject.name, mode };
  }
  const [row] = (await knex('projects')
    .insert({ integration_id: integration.id, external_id: platformProject.externalId, name: platformProject.name, mode })
    .onConflict('integration_id')
    .merge({ external_id: platformProject.externalId, name: platformProject.name, mode, updated_at: knex.fn.now() })
    .returning('id')) as { id: number }[];
  return { id: (row as { id: number }).id, externalId: platformProject.externalId, name: platformProject.name, mode };
}

/**
 * What the run reads: the folders in `scope.folders` when given, else the whole account
 * (DESIGN.md: scope is an optional restriction). The project names where the synced
 * network belongs in mapsync; it does not narrow the read.
 */
export function scopeOf(integration: IntegrationConfig, _project: ResolvedProject): PlatformScope {
  return { projectExternalIds: integration.scope.folders };
}
