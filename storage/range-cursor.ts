/** A cursor over one key range of a sublevel, read as raw JSON text in chunks (for merged scans). */
import type { Sublevel } from './index.ts';

/** Entries read per step. */
const CHUNK = 1000;

/** A cursor over one key range of raw JSON values, read in chunks. */
export class RangeCursor {
  readonly #it;
  #buf: Array<[string, string]> = [];
  #i = 0;
  #done = false;
  constructor(sub: Sublevel<unknown>, gte: string, lt: string) {
    this.#it = sub.iterator({ gte, lt, valueEncoding: 'utf8' }) as unknown as {
      nextv(n: number): Promise<Array<[string, string]>>;
      close(): Promise<void>;
    };
  }
  /** The current entry, or `undefined` at the end; reads the next chunk only when none is buffered. */
  async peek(): Promise<[string, string] | undefined> {
    if (this.#i < this.#buf.length) return this.#buf[this.#i];
    if (this.#done) return undefined;
    this.#buf = await this.#it.nextv(CHUNK);
    this.#i = 0;
    if (this.#buf.length === 0) this.#done = true;
    return this.#buf[0];
  }
  /** Whether an entry is buffered (a synchronous `peek`). */
  buffered(): [string, string] | undefined {
    return this.#i < this.#buf.length ? this.#buf[this.#i] : undefined;
  }
  advance() {
    this.#i++;
  }
  close() {
    return this.#it.close();
  }
}
