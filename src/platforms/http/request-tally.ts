/**
 * What one piece of work (a sync run) asked of a platform: every HTTP attempt, by endpoint
 * family, with the retries and 429 answers among them. A retry is an attempt: it is counted
 * in `requests` and in its family, and once more in `retries`.
 */
export interface PlatformRequestCounts {
  /** HTTP attempts sent (first attempts and retries). */
  requests: number;
  /** Attempts that repeated a failed one. */
  retries: number;
  /** Answers HTTP 429 (too many requests). */
  rateLimited: number;
  /** Attempts ended by the per-attempt wall-clock limit. */
  timeouts: number;
  /** Attempts per endpoint family, as the adapter names them (e.g. GeoGrid `postes`, `portas`). */
  byFamily: Record<string, number>;
  /**
   * How the run read port occupancy: `batch` (several containers per request), `per_item`
   * (one container at a time: by diagram, by occupancy read, or the batch read refused), null when
   * it read none.
   */
  occupancyReads: 'batch' | 'per_item' | null;
}

export class PlatformRequestTally {
  requests = 0;
  retries = 0;
  rateLimited = 0;
  timeouts = 0;
  occupancyReads: PlatformRequestCounts['occupancyReads'] = null;
  private readonly families = new Map<string, number>();

  /** One attempt sent; `attempt` is 1 for a first attempt. */
  attempt(family: string, attempt: number): void {
    this.requests += 1;
    if (attempt > 1) this.retries += 1;
    this.families.set(family, (this.families.get(family) ?? 0) + 1);
  }

  answered(status: number | null, timedOut: boolean): void {
    if (status === 429) this.rateLimited += 1;
    if (timedOut) this.timeouts += 1;
  }

  toJSON(): PlatformRequestCounts {
    return {
      requests: this.requests,
      retries: this.retries,
      rateLimited: this.rateLimited,
      timeouts: this.timeouts,
      byFamily: Object.fromEntries([...this.families].sort(([a], [b]) => a.localeCompare(b))),
      occupancyReads: this.occupancyReads,
    };
  }
}
