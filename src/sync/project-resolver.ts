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
  /** mapsync's own project id (table `projects`). */
  id: number;
  /** The linked platform project's id; null for a project created in mapsync. */
  externalId: string | null;
  name: string;
  mode: 'link' | 'create';
  /**
   * Platform folders the run reads: a linked project's folder and all its sub-folders,
   * narrowed to `scope.folders` when given; for a created project, `scope.folders` (empty:
   * the whole account).
   */
  folderExternalIds: string[];
}

const sameName = (a: string, b: string) => a.trim().toLocaleLowerCase('pt-BR') === b.trim().toLocaleLowerCase('pt-BR');

/**
 * The integration's one project. The platform is read-only for the sync (DESIGN.md,
 * project rule): nothing is ever created on it here.
 *
 * - `link`: an existing platform project (a GeoGrid folder), found by id or by name. It
 *   bounds what the run reads: that folder with its sub-folders, narrowed by `scope.folders`.
 *   Throws ProjectNotFoundError when no project has that id or name, when a name is shared,
 *   or when `scope.folders` names a folder outside the linked project.
 * - `create`: a project in mapsync only (no platform id), holding what `scope.folders`
 *   selects, or the whole account. Only `listProjects` is called on the platform, and only for `link`.
 */
export async function resolveProject(knex: Knex, integration: IntegrationConfig, adapter: PlatformAdapter): Promise<ResolvedProject> {
  const stored = (await knex('projects').where({ integration_id: integration.id }).first()) as
    | { id: number; external_id: string | null; name: string; mode: 'link' | 'create' }
    | undefined;

  let externalId: string | null;
  let name: string;
  let folderExternalIds: string[];
  let mode: 'link' | 'create';
  if ('link' in integration.project) {
    mode = 'link';
    const projects = await adapter.listProjects();
    const linked = findLinkedProject(projects, integration.project.link, integration);
    externalId = linked.externalId;
    name = linked.name;
    folderExternalIds = narrowToScope(projectFolders(projects, linked.externalId), integration, linked);
  } else {
    mode = 'create';
    externalId = null;
    name = integration.project.create;
    folderExternalIds = [...integration.scope.folders];
  }

  if (stored && stored.external_id === externalId && stored.name === name && stored.mode === mode) {
    return { id: stored.id, externalId, name, mode, folderExternalIds };
  }
  const [row] = (await knex('projects')
    .insert({ integration_id: integration.id, external_id: externalId, name, mode })
    .onConflict('integration_id')
    .merge({ external_id: externalId, name, mode, updated_at: knex.fn.now() })
    .returning('id')) as { id: number }[];
  return { id: (row as { id: number }).id, externalId, name, mode, folderExternalIds };
}

function findLinkedProject(projects: PlatformProject[], wanted: string, integration: IntegrationConfig): PlatformProject {
  const byId = projects.find((p) => p.externalId === wanted);
  if (byId) return byId;
  const byName = projects.filter((p) => sameName(p.name, wanted));
  if (byName.length === 1) return byName[0] as PlatformProject;
  if (byName.length > 1) {
    throw new ProjectNotFoundError(
      `project "${wanted}" is ambiguous on ${integration.platform}: ${byName.length} projects have that name (ids ${byName.map((p) => p.externalId).join(', ')}); link it by id instead`,
    );
  }
  throw new ProjectNotFoundError(
    `project "${wanted}" (project.link) does not exist on ${integration.platform}; list the platform's projects with \`mapsync projects ${integration.id}\``,
  );
}

/**
 * A project's folder and every folder below it, by id. A folder's parent is its
 * `parentExternalId` when the platform gives one, else the one folder named `parentName`
 * (GeoGrid lists folders as `{id, nome, nomePai}`); a parent name shared by several folders
 * places the child under none of them rather than under a wrong one.
 */
export function projectFolders(projects: PlatformProject[], rootExternalId: string): string[] {
  const byName = new Map<string, PlatformProject[]>();
  for (const project of projects) {
    const key = project.name.trim().toLocaleLowerCase('pt-BR');
    byName.set(key, [...(byName.get(key) ?? []), project]);
  }
  const parentOf = (project: PlatformProject): string | null => {
    if (project.parentExternalId) return project.parentExternalId;
    if (!project.parentName) return null;
    const candidates = byName.get(project.parentName.trim().toLocaleLowerCase('pt-BR')) ?? [];
    return candidates.length === 1 ? (candidates[0] as PlatformProject).externalId : null;
  };
  const children = new Map<string, string[]>();
  for (const project of projects) {
    const parent = parentOf(project);
    if (parent === null || parent === project.externalId) continue;
    children.set(parent, [...(children.get(parent) ?? []), project.externalId]);
  }
  const found = new Set<string>([rootExternalId]);
  const queue = [rootExternalId];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as string) ?? []) {
      if (found.has(child)) continue; // a cycle in the platform's data
      found.add(child);
      queue.push(child);
    }
  }
  return [...found];
}

function narrowToScope(folders: string[], integration: IntegrationConfig, linked: PlatformProject): string[] {
  const wanted = integration.scope.folders;
  if (wanted.length === 0) return folders;
  const inside = new Set(folders);
  const outside = wanted.filter((id) => !inside.has(id));
  if (outside.length > 0) {
    throw new ProjectNotFoundError(
      `scope.folders ${outside.join(', ')} ${outside.length === 1 ? 'is' : 'are'} not inside the linked project "${linked.name}" (id ${linked.externalId}) or its sub-folders; scope can only narrow what project.link reads`,
    );
  }
  return [...new Set(wanted)];
}

/**
 * What the run reads (see ResolvedProject.folderExternalIds): empty means the whole account.
 * Customers are account-wide on GeoGrid and are not narrowed by folder.
 */
export function scopeOf(_integration: IntegrationConfig, project: ResolvedProject): PlatformScope {
  return { projectExternalIds: project.folderExternalIds };
}
