/**
 * Integrity of the stored log: the storage layout's keys, the alarms the log raises about its own
 * storage, and the checks that authenticate stored entries against a trusted root.
 *
 * Trust: the root of the latest signed checkpoint is authentic (the node signed it; a hand edit
 * cannot re-sign without the node's key). At start-up the log checks that the stored tree leads
 * to that root and that its frontier extends it (a consistency proof), so the in-memory root is
 * authentic too, and the log extends it itself on every append. Every entry served is hashed
 * from its stored bytes and led to that root through stored tree nodes: an edit of the bytes, of
 * the leaf hash, or of any node on the path changes the result.
 */
import {
  bytesEqual,
  checkConsistency,
  consistencyProof,
  decompose,
  foldRange,
  inclusionProof,
  type NodeId,
  type NodeSource,
  type NoteVerifier,
  nodeHash,
  openCheckpoint,
  rootAt,
  rootFromInclusionProof,
} from '../crypto/index.ts';
import { CreditError } from '../model/errors.ts';
import type { Sublevel } from '../storage/index.ts';

/** The stored log does not match its own checkpoints: it was altered outside the node. */
export class AccessLogCorruptError extends CreditError {
  static override name = 'AccessLogCorruptError';
  override readonly code = 'LOG_CORRUPT';
}

/** Twelve hex digits: the index part of a storage key. */
export const hex12 = (n: number) => n.toString(16).padStart(12, '0');
/** Key of a perfect subtree hash (`n!<level><index>`). */
export const nodeKey = (id: NodeId) => `n!${id.level.toString(16).padStart(2, '0')}${hex12(id.index)}`;
/** Key of an entry's bytes. */
export const entryKey = (index: number) => `e!${hex12(index)}`;

/**
 * Kinds of alarm: `LOG_TAMPERED`, stored bytes or hashes that do not match the tree or a signed
 * root; `LOG_CORRUPT`, entries or tree nodes missing or unreadable; `LOG_LOST`, entries that were
 * acknowledged or signed and are no longer on disk (after a storage failure).
 */
export type LogAlarmKind = 'LOG_TAMPERED' | 'LOG_CORRUPT' | 'LOG_LOST';

/** Something the log found wrong with its own storage. */
export interface LogAlarm {
  kind: LogAlarmKind;
  /** First entry concerned. */
  index: number;
  /** Entries concerned from `index` on: 1 names exactly one entry. */
  count: number;
  detail: string;
  /** ISO time it was first raised. */
  at: string;
}

/** Raised alarms, without repeats, at most `max` of them. */
export class AlarmBook {
  readonly #alarms = new Map<string, LogAlarm>();
  readonly #onRaise: (alarm: LogAlarm) => void;
  readonly #max: number;

  constructor(onRaise: (alarm: LogAlarm) => void, max = 1000) {
    this.#onRaise = onRaise;
    this.#max = max;
  }

  /** Raises an alarm unless one of the same kind for the same entries is already raised; returns that one. */
  raise(kind: LogAlarmKind, index: number, count: number, detail: string): LogAlarm {
    const key = `${kind}/${index}/${count}`;
    let alarm = this.#alarms.get(key);
    if (!alarm) {
      alarm = { kind, index, count, detail, at: new Date().toISOString() };
      if (this.#alarms.size < this.#max) this.#alarms.set(key, alarm);
      this.#onRaise(alarm);
    }
    return alarm;
  }

  list(): LogAlarm[] {
    return [...this.#alarms.values()];
  }
}

const ZERO = new Uint8Array(32);
const idKey = (id: NodeId) => `${id.level}/${id.index}`;

/**
 * Leads each leaf to `root` through its stored inclusion proof in the tree of `size` leaves,
 * reading every node needed in one call. Returns the indexes that do not lead there.
 */
export async function unauthenticated(
  items: ReadonlyArray<{ index: number; leaf: Uint8Array }>,
  size: number,
  root: Uint8Array,
  nodes: NodeSource,
): Promise<number[]> {
  const wanted = new Map<string, NodeId>();
  const record: NodeSource = (ids) => {
    for (const id of ids) wanted.set(idKey(id), id);
    return ids.map(() => ZERO);
  };
  for (const { index } of items) await inclusionProof(index, size, record);
  const ids = [...wanted.values()];
  const hashes = await nodes(ids);
  const found = new Map(ids.map((id, i) => [idKey(id), hashes[i]]));
  const cached: NodeSource = (want) => want.map((id) => found.get(idKey(id))!);
  const bad: number[] = [];
  for (const { index, leaf } of items) {
    const proof = await inclusionProof(index, size, cached);
    if (!bytesEqual(rootFromInclusionProof(index, size, leaf, proof), root)) bad.push(index);
  }
  return bad;
}

const largestPow2Below = (n: number) => 2 ** Math.floor(Math.log2(n - 1));

/**
 * The RFC 6962 root of the tree of `size` leaves, computed from the leaf hashes of [lo, size)
 * (`leaves[0]` is leaf `lo`) and the stored perfect subtrees left of `lo`: O(size − lo) hashes and
 * O(log size) node reads. Equal to the trusted root iff every leaf in [lo, size) is authentic.
 */
export async function rootWithLeaves(
  lo: number,
  size: number,
  leaves: readonly Uint8Array[],
  nodes: NodeSource,
): Promise<Uint8Array> {
  if (size <= 0 || lo < 0 || lo >= size || leaves.length !== size - lo)
    throw new RangeError('need 0 <= lo < size and one leaf hash per index of [lo, size)');
  // Every range left of `lo` met on the way down is a left child, so a perfect subtree.
  const stored: NodeId[] = [];
  const plan = (a: number, b: number) => {
    if (b <= lo) {
      stored.push({ level: Math.log2(b - a), index: a / (b - a) });
    } else if (a < lo) {
      const k = largestPow2Below(b - a);
      plan(a, a + k);
      plan(a + k, b);
    }
  };
  plan(0, size);
  const hashes = await nodes(stored);
  let next = 0;
  const hash = (a: number, b: number): Uint8Array => {
    if (b <= lo) return hashes[next++];
    if (b - a === 1) return leaves[a - lo];
    const k = largestPow2Below(b - a);
    const left = hash(a, a + k);
    return nodeHash(left, hash(a + k, b));
  };
  return hash(0, size);
}

/**
 * Whether the log accepts appends: `failed` while its database refuses writes or, for good, when
 * the tree on disk no longer holds what the node signed; `recovering` while the database is being
 * reopened and checked.
 */
export interface AccessLogState {
  status: 'ok' | 'failed' | 'recovering';
  reason?: string;
}

/** Perfect subtrees covering [0, size), left to right. */
export type Frontier = Array<NodeId & { hash: Uint8Array }>;

/** The stored tree as it is on disk: its size and frontier. */
export async function loadTree(sub: Sublevel, nodes: NodeSource): Promise<{ size: number; frontier: Frontier }> {
  const size = ((await sub.get('m!size')) as number | undefined) ?? 0;
  const ids = decompose(0, size);
  const hashes = await nodes(ids);
  return { size, frontier: ids.map((id, i) => ({ ...id, hash: hashes[i] })) };
}

/** The newest stored checkpoint, its signature checked. @throws NoteError when it is not the log's */
export async function storedCheckpoint(sub: Sublevel, verifier: NoteVerifier) {
  for await (const note of sub.values({
    gte: 'c!',
    lt: 'c"',
    reverse: true,
    limit: 1,
    valueEncoding: 'utf8',
  } as never)) {
    const { checkpoint } = openCheckpoint(note as string, verifier);
    return { size: checkpoint.size, root: checkpoint.root, note: note as string };
  }
  return undefined;
}

/**
 * Why the stored tree of `size` leaves does not extend the signed checkpoint `cp`, or undefined
 * when it does: it holds at least `cp.size` entries, its nodes lead to the signed root, and its
 * frontier extends that root (a consistency proof from stored nodes), which makes the frontier's
 * root as trustworthy as the signature.
 */
export async function divergence(
  cp: { size: number; root: Uint8Array },
  size: number,
  frontier: Frontier,
  nodes: NodeSource,
): Promise<string | undefined> {
  if (cp.size > size) return `the stored log has ${size} entries but checkpoint ${cp.size} was signed`;
  if (!bytesEqual(await rootAt(cp.size, nodes), cp.root))
    return `the stored tree does not lead to the root of signed checkpoint ${cp.size}`;
  if (cp.size === 0 || cp.size === size) return undefined;
  try {
    const root = foldRange(frontier.map((f) => f.hash));
    checkConsistency(cp.size, size, cp.root, root, await consistencyProof(cp.size, size, nodes));
  } catch {
    return `the stored tree of ${size} entries does not extend signed checkpoint ${cp.size}`;
  }
  return undefined;
}
