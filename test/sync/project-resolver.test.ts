import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PlatformProject } from '../../src/domain/network.ts';
import { projectFolders, resolveProject, scopeOf } from '../../src/sync/project-resolver.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { emptyNetwork, FakePlatform } from './fixtures/fake-platform.ts';
import { integrationConfig } from './fixtures/sync-harness.ts';
import { ensureIntegrations } from '../../src/sync/sync-runs.repository.ts';

const folder = (externalId: string, name: string, parentName: string | null, parentExternalId?: string): PlatformProject => ({
  externalId,
  name,
  parentName,
  ...(parentExternalId ? { parentExternalId } : {}),
});

/** Folders as GeoGrid lists them: `{id, nome, nomePai}`. */
const FOLDERS: PlatformProject[] = [
  folder('101', 'Campinas', null),
  folder('102', 'Centro', 'Campinas'),
  folder('103', 'Cambuí', 'Campinas'),
  folder('104', 'Rua 1', 'Centro'),
  folder('105', 'Quadra A', 'Rua 1'),
  folder('201', 'Sumaré', null),
  folder('202', 'Centro', 'Sumaré'), // a second "Centro": its children cannot be placed by name
  folder('203', 'Lote 9', 'Centro'),
  folder('204', 'Lote 10', 'Centro', '202'), // an explicit parent id wins over the name
  folder('301', 'Loop A', 'Loop B'),
  folder('302', 'Loop B', 'Loop A'),
];

describe('the folders a linked project reads', () => {
  const cases: Array<[root: string, expected: string[]]> = [
    ['101', ['101', '102', '103']], // "Centro" is shared, so "Rua 1" hangs under neither
    ['103', ['103']],
    ['104', ['104', '105']],
    ['202', ['202', '204']],
    ['201', ['201', '202', '204']],
    ['301', ['301', '302']], // a cycle ends
    ['999', ['999']],
  ];
  for (const [root, expected] of cases) {
    test(`folder ${root} → ${expected.join(', ')}`, () => {
      assert.deepEqual(projectFolders(FOLDERS, root).sort(), expected.sort());
    });
  }

  test('unique parent names chain down every level', () => {
    const tree = [folder('1', 'Rede', null), folder('2', 'Norte', 'Rede'), folder('3', 'Rua 1', 'Norte'), folder('4', 'Quadra', 'Rua 1'), folder('5', 'Sul', null)];
    assert.deepEqual(projectFolders(tree, '1').sort(), ['1', '2', '3', '4']);
    assert.deepEqual(projectFolders(tree, '2').sort(), ['2', '3', '4']);
  });
});

describe('resolveProject', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db.destroy();
  });

  const platformWith = (projects: PlatformProject[]) => {
    const network = emptyNetwork();
    network.projects = projects;
    return new FakePlatform(network);
  };

  const cases: Array<{ name: string; project: Record<string, unknown>; scope?: string[]; folders?: string[]; externalId?: string | null; error?: RegExp }> = [
    { name: 'link by name reads the folder and its sub-folders', project: { link: 'Campinas' }, folders: ['101', '102', '103'], externalId: '101' },
    { name: 'link by id', project: { link: '104' }, folders: ['104', '105'], externalId: '104' },
    { name: 'link by name is case-insensitive', project: { link: 'cambuí' }, folders: ['103'], externalId: '103' },
    { name: 'link narrowed by scope', project: { link: 'Campinas' }, scope: ['103'], folders: ['103'], externalId: '101' },
    { name: 'scope outside the linked project is an error', project: { link: 'Cambuí' }, scope: ['102'], error: /scope\.folders 102 is not inside the linked project "Cambuí"/ },
    { name: 'a shared name must be linked by id', project: { link: 'Centro' }, error: /ambiguous.*ids 102, 202/ },
    { name: 'an unknown project', project: { link: 'Norte' }, error: /project "Norte" \(project\.link\) does not exist/ },
    { name: 'create reads the whole account', project: { create: 'Rede Nova' }, folders: [], externalId: null },
    { name: 'create with scope reads the scoped folders', project: { create: 'Rede Nova' }, scope: ['102', '201'], folders: ['102', '201'], externalId: null },
  ];
  cases.forEach((c, index) => {
    test(c.name, async () => {
      const integration = integrationConfig({ id: `proj-${index}`, project: c.project, ...(c.scope ? { scope: { folders: c.scope } } : {}) });
      await ensureIntegrations(db.knex, [integration]);
      const platform = platformWith(FOLDERS);
      if (c.error) {
        await assert.rejects(resolveProject(db.knex, integration, platform), c.error);
        return;
      }
      const project = await resolveProject(db.knex, integration, platform);
      assert.deepEqual([...project.folderExternalIds].sort(), [...(c.folders ?? [])].sort());
      assert.deepEqual([...scopeOf(integration, project).projectExternalIds].sort(), [...(c.folders ?? [])].sort());
      assert.equal(project.externalId, c.externalId);
      if ('create' in c.project) assert.equal(platform.calls.listProjects, 0, 'a created project is never looked up on the platform');
      const stored = await db.knex('projects').where({ integration_id: integration.id }).first();
      assert.equal(stored.external_id, c.externalId);
      assert.equal(stored.mode, 'link' in c.project ? 'link' : 'create');
    });
  });

  test('switching from create to link keeps the one mapsync project row', async () => {
    const integration = integrationConfig({ id: 'switch', project: { create: 'Rede Nova' } });
    await ensureIntegrations(db.knex, [integration]);
    const created = await resolveProject(db.knex, integration, platformWith(FOLDERS));
    const linked = await resolveProject(db.knex, integrationConfig({ id: 'switch', project: { link: '103' } }), platformWith(FOLDERS));
    assert.equal(linked.id, created.id);
    assert.equal(linked.externalId, '103');
    assert.equal(linked.name, 'Cambuí');
  });
});
