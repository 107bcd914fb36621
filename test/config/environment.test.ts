import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.ts';
import { integerFromEnv } from '../../src/config/environment.ts';

describe('integerFromEnv', () => {
  const port = { min: 0, max: 65_535, fallback: 8080 };

  test('unset or empty gives the fallback; a whole number in range is taken, spaces trimmed', () => {
    assert.equal(integerFromEnv({}, 'PORT', port), 8080);
    assert.equal(integerFromEnv({ PORT: '' }, 'PORT', port), 8080);
    assert.equal(integerFromEnv({ PORT: ' 9090 ' }, 'PORT', port), 9090);
    assert.equal(integerFromEnv({ PORT: '0' }, 'PORT', port), 0);
  });

  for (const raw of ['abc', '80a', '1.5', '-1', '65536', '1e3x', 'NaN', 'Infinity']) {
    test(`PORT=${raw} is refused naming the variable, the range and the value`, () => {
      assert.throws(
        () => integerFromEnv({ PORT: raw }, 'PORT', port),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.message.includes(`environment PORT: must be a whole number from 0 to 65535 (got ${JSON.stringify(raw)})`),
      );
    });
  }
});
