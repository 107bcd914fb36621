import { cleanText } from '../platforms/record-validation.ts';
import type { RunConnection } from './run-connection.ts';

export interface IssueInput {
  kind: string;
  externalId: string | null;
  code: string;
  reason: string;
}

const FLUSH_AT = 2000;
const MAX_REASON_LENGTH = 1000;

/** Buffers a run's issues and writes them in batches, so a run with 100k of them stays light. */
export class RunIssuesWriter {
  private buffer: IssueInput[] = [];
  total = 0;

  constructor(
    readonly connection: RunConnection,
    private readonly runId: string,
    private readonly integrationId: string,
  ) {}

  /** An issue's text often quotes platform data: it is made storable (see cleanText) here. */
  async add(issue: IssueInput): Promise<void> {
    this.buffer.push({
      kind: issue.kind,
      externalId: issue.externalId === null ? null : cleanText(issue.externalId),
      code: issue.code,
      reason: cleanText(issue.reason),
    });
    this.total += 1;
    if (this.buffer.length >= FLUSH_AT) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    await this.connection.query(
      `INSERT INTO sync_issues (run_id, integration_id, kind, external_id, code, reason)
       SELECT $1, $2, kind, external_id, code, reason FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) AS u(kind, external_id, code, reason)`,
      [
        this.runId,
        this.integrationId,
        batch.map((i) => i.kind),
        batch.map((i) => i.externalId),
        batch.map((i) => i.code),
        batch.map((i) => cleanText(i.reason.slice(0, MAX_REASON_LENGTH))),
      ],
    );
  }
}
