/**
 * Built tiles kept in memory, least recently used first out, within a byte budget. A key
 * carries the network version, so a tile is never served for a network it was not built
 * from; when an integration's version moves, its older tiles are dropped at once.
 */
export class TileCache {
  private readonly entries = new Map<string, Buffer>();
  private readonly versions = new Map<string, string>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get enabled(): boolean {
    return this.maxBytes > 0;
  }

  get(integrationId: string, version: string, tile: string): Buffer | undefined {
    const key = `${integrationId}|${version}|${tile}`;
    const found = this.entries.get(key);
    if (found) {
      // Re-inserted: a Map iterates in insertion order, so the first key is the least recent.
      this.entries.delete(key);
      this.entries.set(key, found);
    }
    return found;
  }

  set(integrationId: string, version: string, tile: string, body: Buffer): void {
    if (!this.enabled || body.length > this.maxBytes) return;
    if (this.versions.get(integrationId) !== version) {
      this.drop(integrationId);
      this.versions.set(integrationId, version);
    }
    const key = `${integrationId}|${version}|${tile}`;
    const previous = this.entries.get(key);
    if (previous) this.bytes -= previous.length;
    this.entries.set(key, body);
    this.bytes += body.length;
    for (const [oldest, value] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= value.length;
    }
  }

  private drop(integrationId: string): void {
    for (const [key, value] of this.entries) {
      if (key.startsWith(`${integrationId}|`)) {
        this.entries.delete(key);
        this.bytes -= value.length;
      }
    }
  }
}

/** MAPSYNC_TILE_CACHE_MB (default 64; 0 turns the cache off) in bytes. */
export function tileCacheBytes(env: NodeJS.ProcessEnv): number {
  const raw = env.MAPSYNC_TILE_CACHE_MB;
  const mb = raw === undefined || raw.trim() === '' ? 64 : Number(raw);
  if (!Number.isFinite(mb) || mb < 0) throw new Error(`MAPSYNC_TILE_CACHE_MB must be a number of megabytes, 0 or more (got "${raw}")`);
  return Math.round(mb * 1024 * 1024);
}
