import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { maskDocumentsInText } from '../../src/observability/log-scrubbing.ts';

describe('log scrubbing: identifiers are not documents', () => {
  test('digit runs inside names, stamps and ids stay readable; documents are masked (table)', () => {
    const cases: [string, string][] = [
      // Timestamp-named migrations, whatever the stamp's check digits.
      ['applied 20261201130100_port_count_summaries.ts', 'applied 20261201130100_port_count_summaries.ts'],
      ['migration 20261399050000_x.ts', 'migration 20261399050000_x.ts'],
      // Ids with underscores, on either side.
      ['staging sync_52998224725_poles', 'staging sync_52998224725_poles'],
      ['table run_11222333000181', 'table run_11222333000181'],
      // File names and extensions.
      ['wrote 52998224725.json', 'wrote 52998224725.json'],
      ['read export.52998224725', 'read export.52998224725'],
      // UUIDs, including an all-digit group.
      ['run 5f0c3a5e-1b2c-4d3e-8f9a-452998224725 done', 'run 5f0c3a5e-1b2c-4d3e-8f9a-452998224725 done'],
      ['run 12345678-1234-1234-1234-529982247250', 'run 12345678-1234-1234-1234-529982247250'],
      // Documents are still masked, bare or formatted, at a sentence's end too.
      ['cpf 52998224725.', 'cpf *******4725.'],
      ['cpf 529.982.247-25, ok', 'cpf ***.***.*47-25, ok'],
      ['cnpj 11.222.333/0001-81.', 'cnpj **.***.***/**01-81.'],
      ['cnpj 11222333000181 rejected', 'cnpj **********0181 rejected'],
      ['document=52998224725&x=1', 'document=*******4725&x=1'],
      ['"52998224725"', '"*******4725"'],
      ['not a date 20261399050000', 'not a date **********0000'],
      ['mobile 11987654321', 'mobile *******4321'],
      ['(52998224725)', '(*******4725)'],
    ];
    for (const [input, expected] of cases) assert.equal(maskDocumentsInText(input), expected, input);
  });
});
