/**
 * A contributor to joint queries (DESIGN §7): another bank for cross-bank exposure, a data holder
 * for the multi-source score. In two steps, each asked by the coordinator:
 *
 * 1. `join`: checks the requesting bank's signature over the query (the coordinator only carries
 *    it), its freshness and that this round was not joined before; decides and logs consent for
 *    every enterprise; for exposure, makes a fresh X25519 key for the round's pairwise masks and
 *    returns it signed with this node's roster key, so the coordinator cannot substitute its own.
 * 2. `contribute`: checks the requester's public key against the hash it signed and every other
 *    participant's signed mask key, computes its figures (only for enterprises whose consent it
 *    found), masks and encrypts them under the requester's key, and answers with the ciphertexts
 *    and its log checkpoint after its entries (provenance). A round is contributed to once.
 *
 * Figures never leave this node in the clear, and no key of the requester's ever reaches it but
 * the public one.
 */
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import type { AccessLog } from '../../accesslog/log.ts';
import { type ConsentService, decideJoint, type JointDecisions } from '../../authz/index.ts';
import {
  createScoringModel,
  EXPOSURE_VECTORS,
  encodeAmounts,
  encodeExposureLimbs,
  encodeFeature,
  encodeOverdueAndLenders,
  exposureRoundId,
  generateMaskKeyPair,
  type HePool,
  MAX_PUBLIC_KEY_BYTES,
  maskContribution,
  PLAIN_MODULUS,
  pairwiseMasksMany,
  parameterSetById,
  SLOT_COUNT,
  SMALL_EXPOSURE_BATCH,
  SMALL_EXPOSURE_VECTOR,
  SMALL_SET,
} from '../../crypto/he/index.ts';
import {
  canonicalBytes,
  concatBytes,
  type Ed25519Signer,
  ed25519Verify,
  fromBase64,
  toBase64,
  toUtf8,
} from '../../crypto/index.ts';
import { centredFeatures, type ScoreModel, type Section } from '../../model/index.ts';
import type { ProfileStore } from '../../profiles/index.ts';
import { PeerError } from '../host.ts';
import type { RosterMember } from '../roster.ts';
import { JOINT_FRESHNESS_MS, jointQuerySignedBy, publicKeyHash, type SignedJointQuery } from './query.ts';
import { scoringSpec } from './scoring.ts';

const MASK_DOMAIN = toUtf8('credit-data-space/joint-mask-key/v1\n');
/** How long a joined round waits for its contribution step. */
export const ROUND_TTL_MS = 2 * 60_000;

/** A participant's mask key as the coordinator relays it. */
export const MaskKeySchema = z
  .object({
    node: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
    key: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
    signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/),
  })
  .strict();
/** A participant's signed mask key. */
export type MaskKey = z.infer<typeof MaskKeySchema>;

/** What a round's mask key binds: the query, the attempt, the node and the key. */
const maskKeyBytes = (queryId: string, attempt: number, node: string, key: string) =>
  concatBytes(MASK_DOMAIN, canonicalBytes({ queryId, attempt, node, key }));

/** What a contributor needs. */
export interface ContributorComponents {
  nodeId: string;
  role: string;
  consents: ConsentService;
  log: AccessLog;
  profiles: ProfileStore;
  he: () => Promise<HePool>;
  signer: Ed25519Signer;
  /** Roster member by node id (active members only). */
  member: (nodeId: string) => RosterMember | undefined;
  /** The sections this node serves (score features it can compute). */
  serves: () => readonly Section[];
  model: ScoreModel;
}

interface Round {
  signed: SignedJointQuery;
  attempt: number;
  decisions: JointDecisions;
  mask?: { privateKey: KeyObject; key: string };
  expires: number;
}

/** Checks that a query is signed by the bank it names, fresh, and meant for a contributor like this one. */
export function checkQuery(
  c: Pick<ContributorComponents, 'nodeId' | 'member'>,
  signed: SignedJointQuery,
  now = Date.now(),
): void {
  const q = signed.query;
  const bank = c.member(q.requester);
  const key = bank?.role === 'bank' ? fromBase64(bank.signingKey) : undefined;
  if (!key || !jointQuerySignedBy(signed, key))
    throw new PeerError('FORBIDDEN', 'the query is not signed by the bank it names');
  if (Math.abs(now - Date.parse(q.issuedAt)) > JOINT_FRESHNESS_MS)
    throw new PeerError('FORBIDDEN', 'the query is too old or from the future');
  const set = parameterSetById(q.parameters);
  if (!set) throw new PeerError('BAD_REQUEST', 'unknown HE parameters');
  // The small set carries exposure batches only, of at most SMALL_EXPOSURE_BATCH enterprises.
  if (set === SMALL_SET && (q.kind !== 'exposure' || q.batch.length > SMALL_EXPOSURE_BATCH))
    throw new PeerError('BAD_REQUEST', 'the small HE parameter set takes exposure batches of at most 585');
  if (q.requester === c.nodeId) throw new PeerError('BAD_REQUEST', 'a requester does not contribute to its own query');
}

/** Creates the contributor role. */
export function createContributor(c: ContributorComponents) {
  const rounds = new Map<string, Round>();
  /** Rounds joined, until the query could no longer pass the freshness check (a replay is refused by then). */
  const served = new Map<string, number>();
  const roundKey = (queryId: string, attempt: number) => `${queryId}#${attempt}`;
  const sweep = () => {
    const now = Date.now();
    for (const [k, r] of rounds) if (r.expires < now) rounds.delete(k);
    for (const [k, until] of served) if (until < now) served.delete(k);
  };
  const requester = (signed: SignedJointQuery) => ({
    sub: signed.query.principal,
    role: 'bank-officer' as const,
    bank: signed.query.requester,
  });

  return {
    /** Step 1: decide and log consent, make the round's mask key. */
    async join(signed: SignedJointQuery, attempt: number) {
      sweep();
      checkQuery(c, signed);
      const q = signed.query;
      if (q.kind === 'exposure' && c.role !== 'bank')
        throw new PeerError('BAD_REQUEST', 'only banks contribute to an exposure query');
      if (q.kind === 'score' && !['credit-centre', 'city-peer', 'source'].includes(c.role))
        throw new PeerError('BAD_REQUEST', 'only data holders contribute to a score query');
      const id = roundKey(q.id, attempt);
      if (served.has(id) || rounds.has(id)) throw new PeerError('FORBIDDEN', 'this round was already joined (replay)');
      const decisions = await decideJoint(
        { consents: c.consents, log: c.log, nodeId: c.nodeId },
        requester(signed),
        q.kind === 'exposure' ? 'joint:exposure' : 'joint:score',
        q.purpose,
        q.batch,
        q.id,
      );
      const round: Round = { signed, attempt, decisions, expires: Date.now() + ROUND_TTL_MS };
      let maskKey: MaskKey | undefined;
      if (q.kind === 'exposure') {
        const pair = generateMaskKeyPair();
        const key = toBase64(pair.publicKey);
        round.mask = { privateKey: pair.privateKey, key };
        maskKey = {
          node: c.nodeId,
          key,
          signature: toBase64(c.signer.sign(maskKeyBytes(q.id, attempt, c.nodeId, key))),
        };
      }
      rounds.set(id, round);
      served.set(id, Date.now() + 2 * JOINT_FRESHNESS_MS);
      return { refused: decisions.refused, ...(maskKey ? { maskKey } : {}) };
    },

    /** Step 2: compute, mask, encrypt; answer with the ciphertexts and this node's checkpoint. */
    async contribute(
      queryId: string,
      attempt: number,
      publicKey: Uint8Array,
      participants: readonly MaskKey[],
      signal?: AbortSignal,
    ) {
      const id = roundKey(queryId, attempt);
      const round = rounds.get(id);
      if (!round) throw new PeerError('NOT_FOUND', 'no joined round with that id');
      rounds.delete(id);
      const q = round.signed.query;
      if (publicKey.length > MAX_PUBLIC_KEY_BYTES || publicKeyHash(publicKey) !== q.publicKeyHash)
        throw new PeerError('FORBIDDEN', 'the public key is not the one the requester signed');
      // This node's entries for the query were made durable at `join`: the checkpoint that covers
      // them is signed and stored (a synced write) while the figures are computed and encrypted.
      const signing = c.log.checkpoint();
      signing.catch(() => undefined); // awaited below
      const pool = await c.he();
      const allowed = new Set(round.decisions.allowed);
      const ciphertexts: Record<string, string> = {};
      if (q.kind === 'exposure') {
        const mine = participants.find((p) => p.node === c.nodeId);
        if (!mine || mine.key !== round.mask?.key) throw new PeerError('BAD_REQUEST', 'this node is not a participant');
        const peers = new Map<string, Uint8Array>();
        for (const p of participants) {
          if (p.node === c.nodeId) continue;
          const m = c.member(p.node);
          const key = m?.role === 'bank' ? fromBase64(m.signingKey) : undefined;
          const sig = fromBase64(p.signature);
          if (!key || !sig || !ed25519Verify(key, maskKeyBytes(q.id, attempt, p.node, p.key), sig))
            throw new PeerError('FORBIDDEN', `the mask key of ${p.node} is not signed by that bank`);
          peers.set(p.node, fromBase64(p.key)!);
        }
        const outstanding = new Array<number>(q.batch.length).fill(0);
        const overdue = new Array<number>(q.batch.length).fill(0);
        const lenders = new Array<boolean>(q.batch.length).fill(false);
        // Only the enterprises whose consent this node found, read in one pass over the loan book.
        const indexes = round.decisions.allowed;
        const books = await c.profiles.getLoansMany(indexes.map((i) => q.batch[i].uscc));
        for (const [k, i] of indexes.entries()) {
          let o = 0;
          let d = 0;
          for (const loan of books[k]) {
            if (loan.bank !== c.nodeId || loan.status === 'SETTLED') continue;
            o += loan.outstandingYuan;
            if (loan.status === 'OVERDUE') d += loan.outstandingYuan;
          }
          outstanding[i] = o;
          overdue[i] = d;
          lenders[i] = o > 0;
        }
        if (q.parameters === SMALL_SET.id) {
          // A small batch: every figure in one vector of the small set, in limbs.
          const [mask] = pairwiseMasksMany(
            round.mask!.privateKey,
            peers,
            [exposureRoundId(`${q.id}#${attempt}`, SMALL_EXPOSURE_VECTOR)],
            SMALL_SET.slotCount,
            SMALL_SET.plainModulus,
          );
          const encoded = encodeExposureLimbs(outstanding, overdue, lenders);
          const ct = await pool.encryptVector(publicKey, maskContribution(encoded, mask, SMALL_SET.plainModulus), {
            signal,
            set: SMALL_SET,
          });
          ciphertexts[SMALL_EXPOSURE_VECTOR] = toBase64(ct);
        } else {
          const encoded = {
            outstanding: encodeAmounts(outstanding),
            overdueAndLenders: encodeOverdueAndLenders(overdue, lenders),
          };
          // One key agreement per peer for both vectors; each vector has its own round id.
          const masks = pairwiseMasksMany(
            round.mask!.privateKey,
            peers,
            EXPOSURE_VECTORS.map((v) => exposureRoundId(`${q.id}#${attempt}`, v)),
            SLOT_COUNT,
            PLAIN_MODULUS,
          );
          await Promise.all(
            EXPOSURE_VECTORS.map(async (v, k) => {
              // Compact: only added and decrypted, so switched down to half the size.
              const ct = await pool.encryptVector(publicKey, maskContribution(encoded[v], masks[k]), {
                signal,
                compact: true,
              });
              ciphertexts[v] = toBase64(ct);
            }),
          );
        }
      } else {
        const model = createScoringModel(scoringSpec(c.model));
        const sections = c.serves();
        const features = c.model.features.filter((f) => sections.includes(f.section));
        const values = new Map(features.map((f) => [f.name, new Array<number>(q.batch.length).fill(0)]));
        const wanted = [...new Set(features.map((f) => f.section))];
        for (const [i, s] of q.batch.entries()) {
          if (!allowed.has(i)) continue;
          const facts = await c.profiles.getFacts(s.uscc, wanted);
          if (facts.length === 0) continue;
          const centred = centredFeatures(c.model, facts, wanted);
          for (const f of features) values.get(f.name)![i] = centred[f.name] ?? 0;
        }
        await Promise.all(
          features.map(async (f) => {
            const ct = await pool.encryptVector(publicKey, encodeFeature(model, f.name, values.get(f.name)!), {
              signal,
            });
            ciphertexts[f.name] = toBase64(ct);
          }),
        );
      }
      const checkpoint = await signing;
      return { ciphertexts, ...(checkpoint ? { checkpoint: checkpoint.note } : {}) };
    },
  };
}

/** A contributor role. */
export type Contributor = ReturnType<typeof createContributor>;
