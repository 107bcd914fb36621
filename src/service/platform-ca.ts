import { readFileSync } from 'node:fs';

/**
 * An extra CA (PEM) trusted for platform calls, from MAPSYNC_PLATFORM_CA_FILE: for a
 * platform behind a private certificate, such as a local simulator.
 */
export function platformCaFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env.MAPSYNC_PLATFORM_CA_FILE?.trim();
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`MAPSYNC_PLATFORM_CA_FILE: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
