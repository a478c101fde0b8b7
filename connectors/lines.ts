/**
 * A byte-level line splitter with a hard line-length limit: a 10 MB line is reported as one
 * oversized row without ever being buffered whole.
 */

/** One line of input, or a line that was too long (its bytes were dropped). */
export type Line = { lineNumber: number; bytes: Buffer } | { lineNumber: number; tooLong: true; length: number };

/** Splits a byte stream on `\n` (a trailing `\r` is removed); lines over `maxBytes` are dropped and reported. */
export async function* splitLines(chunks: AsyncIterable<Buffer>, maxBytes: number): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let size = 0;
  let discarding = false;
  let lineNumber = 0;
  const finish = (): Line => {
    lineNumber++;
    if (discarding) return { lineNumber, tooLong: true, length: size };
    let bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    return { lineNumber, bytes };
  };
  for await (const chunk of chunks) {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      size += piece.length;
      if (!discarding) {
        if (size > maxBytes) {
          discarding = true;
          parts = [];
        } else if (piece.length > 0) parts.push(piece);
      }
      if (nl === -1) break;
      yield finish();
      parts = [];
      size = 0;
      discarding = false;
      start = nl + 1;
    }
  }
  if (size > 0 || discarding) yield finish();
}
