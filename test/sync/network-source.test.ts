import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { networkSourceChange, networkSourceOf } from '../../src/sync/network-source.ts';
import type { ResolvedProject } from '../../src/sync/project-resolver.ts';
import { integrationConfig } from './fixtures/sync-harness.ts';

const centro = { id: 1, externalId: '102', name: 'Centro', mode: 'link', folderExternalIds: ['102'] } as unknown as ResolvedProject;

describe('the source of an integration’s stored network', () => {
  test('the same platform, host and project is no change, whatever the port or path', () => {
    const a = networkSourceOf(integrationConfig({ platform: 'geogrid', apiUrl: 'https://127.0.0.1:41001/api/v3' }), centro);
    const b = networkSourceOf(integrationConfig({ platform: 'geogrid', apiUrl: 'https://127.0.0.1:39555' }), centro);
    assert.equal(networkSourceChange('demo', a, b), null);
    assert.equal(networkSourceChange('demo', null, b), null, 'nothing stored from a known source yet');
  });

  test('another platform is named, with how to proceed', () => {
    const a = networkSourceOf(integrationConfig({ platform: 'simulator', apiUrl: 'https://127.0.0.1:41001' }), centro);
    const b = networkSourceOf(integrationConfig({ platform: 'ozmap', apiUrl: 'https://127.0.0.1:41002' }), centro);
    const message = networkSourceChange('demo', a, b) ?? '';
    assert.match(message, /integration "demo" changed source since its stored network was synced \(platform\)/);
    assert.match(message, /stored from simulator at 127\.0\.0\.1, project link:102, now configured for ozmap at 127\.0\.0\.1/);
    assert.match(message, /mapsync sync demo --force/);
  });

  test('another host or project is a change', () => {
    const a = networkSourceOf(integrationConfig({ apiUrl: 'https://a.example.com' }), centro);
    const b = networkSourceOf(integrationConfig({ apiUrl: 'https://B.example.com' }), { ...centro, externalId: '103' });
    assert.match(networkSourceChange('x', a, b) ?? '', /\(apiHost, project\)/);
  });
});
