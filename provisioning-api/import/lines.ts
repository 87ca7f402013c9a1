/**
 * Bytes to lines, streaming: yields the complete lines of each chunk as one array (so the
 * consumer's per-line work is a plain loop), keeps the unfinished tail, and decodes UTF-8
 * across chunk boundaries. Memory is one chunk plus one line.
 */
import { StringDecoder } from 'node:string_decoder';

export async function* readLines(source: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8');
  let tail = '';
  for await (const chunk of source) {
    const text = tail + (typeof chunk === 'string' ? chunk : decoder.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)));
    const lines = text.split('\n');
    tail = lines.pop()!;
    if (lines.length > 0) yield lines;
  }
  tail += decoder.end();
  if (tail !== '') yield [tail];
}
