import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { extractServiceId } from '../../src/domain/observation.ts';
import { OBSERVATION_CORPUS } from './corpus/observation-corpus.ts';

describe('extractServiceId on the observation corpus', () => {
  it('holds at least 80 observations', () => {
    assert.ok(OBSERVATION_CORPUS.length >= 80, String(OBSERVATION_CORPUS.length));
  });
  for (const { text, expect, note } of OBSERVATION_CORPUS) {
    const wanted = 'id' in expect ? `${expect.id} (${expect.strength})` : 'several' in expect ? `several ${expect.several.join(',')}` : 'no id';
    it(`${JSON.stringify(text)} → ${wanted}${note ? ` [${note}]` : ''}`, () => {
      const result = extractServiceId(text);
      if ('id' in expect) assert.deepEqual(result, { id: expect.id, strength: expect.strength });
      else if ('several' in expect) assert.deepEqual(result, { id: null, reason: 'several_ids', candidates: expect.several });
      else assert.equal(result.id, null, JSON.stringify(result));
      if ('none' in expect) assert.notEqual(result.id === null && result.reason, 'several_ids', JSON.stringify(result));
    });
  }
});
