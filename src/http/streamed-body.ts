import { Readable } from 'node:stream';

/**
 * A byte stream over text pieces with a small buffer: the next piece is asked for only once
 * the client has taken the previous one (backpressure), so a slow reader never piles a large
 * answer up in memory, and a reader that goes away ends the iterator (no more queries).
 * An error thrown by the iterator after the headers went out cuts the response short.
 */
export function streamedBody(chunks: AsyncIterable<string>, options: { highWaterMark?: number } = {}): Readable {
  return Readable.from(chunks, { objectMode: false, highWaterMark: options.highWaterMark ?? 64 * 1024 });
}
