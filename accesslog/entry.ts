/**
 * What an append writes: how an access event becomes a log entry (RFC 8785 canonical JSON of
 * {@link LogEntry}, the exact leaf bytes), the commitment that stands in the leaf for the
 * enterprise concerned, the private records written beside it (its opening, the enterprise
 * index), and the tree nodes a batch of entries completes. Pure: the log commits the writes as one
 * atomic batch. Also the log's checkpoint origin.
 */
import { hash } from 'node:crypto';
import { canonicalJson, nodeHash, sha256, toBase64, toHex, toUtf8 } from '../crypto/index.ts';
import type { Sublevel } from '../storage/index.ts';
import { entryKey, type Frontier, hex12, nodeKey } from './integrity.ts';
import type { AccessEvent, AppendReceipt } from './port.ts';
import type { EntryOpening, LogEntry } from './types.ts';

const SUBJECT_DOMAIN = toUtf8('credit-data-space/subject/v1\0');

/** The subject commitment of an entry. */
export function subjectCommitment(uscc: string, opening: Uint8Array): Uint8Array {
  return sha256(SUBJECT_DOMAIN, toUtf8(uscc), new Uint8Array([0]), opening);
}

const CONSENT_DOMAIN = toUtf8('credit-data-space/consent-ref/v1\0');

/** The consent commitment of an entry: who holds the opening can tell which consent an access used. */
export function consentCommitment(consentId: string, opening: Uint8Array): Uint8Array {
  return sha256(CONSENT_DOMAIN, toUtf8(consentId), new Uint8Array([0]), opening);
}

/** The keys of a {@link LogEntry} in RFC 8785 order (UTF-16 code units), and of its actor. */
const ENTRY_KEYS = [
  'action',
  'actor',
  'consent',
  'consentId',
  'correlationId',
  'decision',
  'purpose',
  'reason',
  'resultDigest',
  'scopes',
  'subject',
  'time',
  'v',
] as const;
const ACTOR_KEYS = ['node', 'principal', 'role'] as const;

/** A JCS string, or undefined when `v` is not a well-formed string (the general path decides then). */
const jcsString = (v: unknown) => (typeof v === 'string' && v.isWellFormed() ? JSON.stringify(v) : undefined);

/**
 * The RFC 8785 canonical JSON of an entry, the same text {@link canonicalJson} gives (tested
 * against it), built directly for the shape every entry has: string fields, string scopes, the
 * actor's three strings, `v` 1 or 2. Anything else takes the general path.
 */
export function entryJson(entry: LogEntry): string {
  const e = entry as unknown as Record<string, unknown>;
  let out = '{';
  for (const key of ENTRY_KEYS) {
    const value = e[key];
    if (value === undefined) continue;
    let text: string | undefined;
    if (key === 'v') text = value === 1 || value === 2 ? String(value) : undefined;
    else if (key === 'actor') {
      if (typeof value !== 'object' || value === null || Object.keys(value).length > ACTOR_KEYS.length)
        text = undefined;
      else {
        const a = value as Record<string, unknown>;
        text = '{';
        for (const k of ACTOR_KEYS) {
          if (a[k] === undefined) continue;
          const v = jcsString(a[k]);
          if (v === undefined) return canonicalJson(entry);
          text += `${text.length > 1 ? ',' : ''}"${k}":${v}`;
        }
        // Keys other than the three (never set by toEntry) take the general path.
        if (Object.keys(a).some((k) => !(ACTOR_KEYS as readonly string[]).includes(k))) return canonicalJson(entry);
        text += '}';
      }
    } else if (key === 'scopes') {
      if (!Array.isArray(value)) text = undefined;
      else {
        const items: string[] = [];
        for (const v of value) {
          const t = jcsString(v);
          if (t === undefined) return canonicalJson(entry);
          items.push(t);
        }
        text = `[${items.join(',')}]`;
      }
    } else text = jcsString(value);
    if (text === undefined) return canonicalJson(entry);
    out += `${out.length > 1 ? ',' : ''}"${key}":${text}`;
  }
  if (Object.keys(e).some((k) => !(ENTRY_KEYS as readonly string[]).includes(k))) return canonicalJson(entry);
  return `${out}}`;
}

/** RFC 6962 leaf hash of an entry's text: SHA-256(0x00 ‖ UTF-8 of the text), hashed from the string. */
export function entryLeafHash(text: string): Uint8Array {
  return new Uint8Array(hash('sha256', `\0${text}`, 'buffer'));
}

/** Checkpoint origin of a node's log. */
export const logOrigin = (nodeId: string) => `credit-data-space/${nodeId}`;

/**
 * The entry recording `e` at `index`. With a subject or a consent, pushes onto `priv` the puts of
 * the private store: the commitments' opening (`o!<index>`) and the enterprise index (`s!<uscc>!<index>`).
 * @throws TypeError when `e` is malformed
 */
function toEntry(e: AccessEvent, index: number, priv: PrivatePut[], opening: Uint8Array): LogEntry {
  if (!e || typeof e.correlationId !== 'string' || !Array.isArray(e.scopes) || !e.actor)
    throw new TypeError('malformed access event');
  const entry: LogEntry = {
    v: 2,
    time: e.time,
    actor: { node: e.actor.node, principal: e.actor.principal, role: e.actor.role },
    action: e.action,
    decision: e.decision,
    scopes: [...e.scopes],
    correlationId: e.correlationId,
  };
  if (e.reason) entry.reason = e.reason;
  if (e.purpose) entry.purpose = e.purpose;
  if (e.resultDigest) entry.resultDigest = e.resultDigest;
  // The enterprise and the consent stand in the leaf only as commitments sharing one opening: an
  // auditor reading entries cannot link them to an enterprise through the consent either, and an
  // erasure of the opening unlinks both.
  if (e.subject) entry.subject = toBase64(subjectCommitment(e.subject, opening));
  if (e.consentId) entry.consent = toBase64(consentCommitment(e.consentId, opening));
  if (e.subject || e.consentId) {
    const value: EntryOpening = {
      ...(e.subject ? { uscc: e.subject } : {}),
      ...(e.consentId ? { consentId: e.consentId } : {}),
      opening: toBase64(opening),
    };
    priv.push({ key: `o!${hex12(index)}`, value });
  }
  if (e.subject) priv.push({ key: `s!${e.subject}!${hex12(index)}`, value: '' });
  return entry;
}

/** A put of the private store (JSON value). */
export interface PrivatePut {
  key: string;
  value: unknown;
}

/**
 * What appending a batch writes, as plain data (it crosses to and from a worker thread): the
 * entries' texts, their leaf hashes and the perfect subtrees they complete, the private records,
 * and the tree after the batch.
 */
export interface BuiltBatch {
  /** Index of the first entry. */
  first: number;
  /** Each entry's exact leaf bytes (RFC 8785 canonical JSON). */
  texts: string[];
  /** Each entry's leaf hash, 32 bytes each. */
  leaves: Uint8Array[];
  /** The interior nodes completed by the batch. */
  nodes: Frontier;
  /** Puts of the private store. */
  priv: PrivatePut[];
  /** The log's size after the batch. */
  size: number;
  /** Perfect subtrees covering [0, size) after the batch. */
  frontier: Frontier;
}

/**
 * Builds the entries that append `events` to the tree of `tree.size` leaves. Pure and
 * deterministic: `tree.randomness` holds 32 bytes per event (the commitment openings).
 * @throws TypeError when an event is malformed
 */
export function buildBatch(
  events: readonly AccessEvent[],
  tree: { size: number; frontier: Frontier; randomness: Uint8Array },
): BuiltBatch {
  const priv: PrivatePut[] = [];
  const frontier = [...tree.frontier];
  const texts: string[] = [];
  const leaves: Uint8Array[] = [];
  const nodes: Frontier = [];
  const first = tree.size;
  let size = first;
  for (const event of events) {
    const index = size++;
    const opening = tree.randomness.subarray(32 * (index - first), 32 * (index - first + 1));
    const text = entryJson(toEntry(event, index, priv, opening));
    const leaf = entryLeafHash(text);
    texts.push(text);
    leaves.push(leaf);
    frontier.push({ level: 0, index, hash: leaf });
    while (frontier.length >= 2 && frontier[frontier.length - 1].level === frontier[frontier.length - 2].level) {
      const right = frontier.pop()!;
      const left = frontier.pop()!;
      const parent = { level: left.level + 1, index: left.index / 2, hash: nodeHash(left.hash, right.hash) };
      frontier.push(parent);
      nodes.push(parent);
    }
  }
  return { first, texts, leaves, nodes, priv, size, frontier };
}

/** The writes of one appended batch and the tree after it. */
export interface AppendedBatch {
  /** Puts for one atomic batch of the root database, each naming its sublevel. */
  ops: Array<Record<string, unknown>>;
  /** The log's size after the batch. */
  size: number;
  /** Perfect subtrees covering [0, size) after the batch. */
  frontier: Frontier;
  /** One per event, in order. */
  receipts: AppendReceipt[];
}

/**
 * The writes of a built batch: each entry's bytes, its leaf hash and every perfect subtree it
 * completes (`e!`, `n!`), then the new size (`m!size`), then the private records.
 */
export function batchWrites(built: BuiltBatch, sublevels: { sub: Sublevel; private: Sublevel }): AppendedBatch {
  const ops: Array<Record<string, unknown>> = [];
  const sublevel = sublevels.sub;
  const receipts: AppendReceipt[] = [];
  for (let k = 0; k < built.texts.length; k++) {
    const index = built.first + k;
    ops.push({ type: 'put', sublevel, key: entryKey(index), value: built.texts[k], valueEncoding: 'utf8' });
    ops.push({
      type: 'put',
      sublevel,
      key: nodeKey({ level: 0, index }),
      value: built.leaves[k],
      valueEncoding: 'view',
    });
    receipts.push({ index, leafHash: toHex(built.leaves[k]) });
  }
  for (const node of built.nodes)
    ops.push({ type: 'put', sublevel, key: nodeKey(node), value: node.hash, valueEncoding: 'view' });
  ops.push({ type: 'put', sublevel, key: 'm!size', value: built.size });
  for (const p of built.priv) ops.push({ type: 'put', key: p.key, value: p.value, sublevel: sublevels.private });
  return { ops, size: built.size, frontier: built.frontier, receipts };
}

/**
 * The writes that append `events` to the tree of `tree.size` leaves ({@link buildBatch}, then
 * {@link batchWrites}). `tree.randomness` holds 32 bytes per event: the commitment openings.
 * @throws TypeError when an event is malformed
 */
export function appendBatch(
  events: readonly AccessEvent[],
  tree: { size: number; frontier: Frontier; randomness: Uint8Array },
  sublevels: { sub: Sublevel; private: Sublevel },
): AppendedBatch {
  return batchWrites(buildBatch(events, tree), sublevels);
}
