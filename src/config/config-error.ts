export interface ConfigProblem {
  /** File the problem is in, relative to the config folder, when known. */
  file: string | null;
  /** Path of the bad key, e.g. `integrations[0].apiUrl`. */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `Invalid configuration:\n` +
        problems.map((p) => `  - ${p.file ? `${p.file}: ` : ''}${p.path || '(root)'}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : `${index === 0 ? '' : '.'}${String(segment)}`))
    .join('');
}
