import type { TestService } from './test-service.ts';

/** Polls GET /v1/sync-runs/:runId until the run has ended; returns its last view. */
export async function waitForRunEnd(svc: TestService, runId: string, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await svc.request('GET', `/v1/sync-runs/${runId}`);
    if (status !== 200) throw new Error(`GET run ${runId}: HTTP ${status} ${JSON.stringify(body)}`);
    if (body.status === 'succeeded' || body.status === 'failed') return body;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${body.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
