/**
 * Joint queries over the federation (`/credit/joint/1.0.0`, DESIGN §7): cross-bank exposure and
 * the multi-source score, "usable but not visible".
 *
 * - `query` (bank → easy-loan coordinator): the bank's signed query and its fresh public key;
 *   answered with the summed ciphertexts, which only the bank can decrypt.
 * - `join`, `contribute` (coordinator → contributors): see `contributor.ts`.
 *
 * The requesting side (`run`) decides and logs consent for every enterprise first, splits the
 * allowed ones into batches of one ciphertext (8,192), makes a fresh key pair per batch in the HE
 * worker pool (the secret key never leaves its worker), decrypts only the sums, checks their
 * range (a wrong key, a missing contributor or tampering shows as out-of-range garbage) and
 * answers per enterprise, with who contributed, who refused what, and each contributor's log
 * checkpoint after its entries.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AccessLog } from '../../accesslog/log.ts';
import {
  type ConsentService,
  decideJoint,
  ForbiddenError,
  InvalidInputError,
  type Principal,
  purposeById,
} from '../../authz/index.ts';
import {
  checkExposureLimbs,
  checkExposureTotals,
  checkOverdueAndLenders,
  createScoringModel,
  decodeScores,
  EXPOSURE_BOUNDS,
  type HePool,
  type HePoolKeyPair,
  MAX_PUBLIC_KEY_BYTES,
  SMALL_EXPOSURE_BATCH,
  SMALL_EXPOSURE_VECTOR,
  SMALL_SET,
  STANDARD_SET,
} from '../../crypto/he/index.ts';
import { type Ed25519Signer, fromBase64, toBase64 } from '../../crypto/index.ts';
import { type ScoreModel, type Section, validateUscc } from '../../model/index.ts';
import type { ProfileStore } from '../../profiles/index.ts';
import { type FederationHost, PeerError, PeerUnavailableError } from '../host.ts';
import type { RosterMember } from '../roster.ts';
import { createContributor, MaskKeySchema } from './contributor.ts';
import { type CoordinatedResult, createCoordinator } from './coordinator.ts';
import {
  type JointKind,
  type JointQuery,
  MAX_JOINT_BATCH,
  publicKeyHash,
  SignedJointQuerySchema,
  signJointQuery,
} from './query.ts';
import { scoringSpec } from './scoring.ts';

/** Protocol id of joint queries. */
export const JOINT_PROTOCOL = '/credit/joint/1.0.0';
/** Most enterprises one run takes (split into batches of {@link MAX_JOINT_BATCH}). */
export const MAX_JOINT_RUN = 10_000;
/** Longest a batch may take end to end. */
export const QUERY_TIMEOUT_MS = 180_000;
const MAX_FRAME_BYTES = 8 * 1024 * 1024;

const FrameSchema = z.discriminatedUnion('op', [
  z
    .object({
      op: z.literal('query'),
      signed: SignedJointQuerySchema,
      publicKey: z.string().max(MAX_PUBLIC_KEY_BYTES * 2),
    })
    .strict(),
  z
    .object({ op: z.literal('join'), signed: SignedJointQuerySchema, attempt: z.number().int().min(1).max(100) })
    .strict(),
  z
    .object({
      op: z.literal('contribute'),
      queryId: z.string().max(64),
      attempt: z.number().int().min(1).max(100),
      publicKey: z.string().max(MAX_PUBLIC_KEY_BYTES * 2),
      participants: z.array(MaskKeySchema).max(64),
    })
    .strict(),
]);

/** One enterprise's answer. */
export interface JointRow {
  uscc: string;
  /** OK; REFUSED (no consent here, or a malformed code); FAILED (the batch could not be computed). */
  status: 'OK' | 'REFUSED' | 'FAILED';
  reason?: string;
  /** The consent the query relied on for this enterprise. */
  consentId?: string;
  /** Exposure at the other banks (yuan) and how many of them lend to it. */
  outstandingYuan?: number;
  overdueYuan?: number;
  lenders?: number;
  /** Multi-source score. */
  score?: number;
  /** Contributors that refused this enterprise (no consent there) or dropped out: the figure lacks their part. */
  without?: string[];
}

/** The answer to a run. */
export interface JointRun {
  kind: JointKind;
  queryIds: string[];
  rows: JointRow[];
  contributors: string[];
  dropped: string[];
  provenance: Array<{ node: string; checkpoint?: string; queryId: string }>;
  /** Score runs: the model applied. */
  model?: string;
}

/** What joint queries need. */
export interface JointComponents {
  host: FederationHost;
  consents: ConsentService;
  log: AccessLog;
  profiles: ProfileStore;
  /** The node's HE worker pool (created on first use). */
  he: () => Promise<HePool>;
  nodeId: string;
  role: string;
  signer: Ed25519Signer;
  serves: () => readonly Section[];
  quarantined: () => readonly string[];
  model: ScoreModel;
  logger: Logger;
}

/** Creates joint queries: the protocol handler and the requesting side. */
export function createJointQueries(c: JointComponents) {
  const members = () => c.host.roster()?.roster.members ?? [];
  const member = (nodeId: string) => members().find((m) => m.nodeId === nodeId);
  const ask = (nodeId: string, body: unknown, timeoutMs: number, signal?: AbortSignal) =>
    c.host.request(nodeId, JOINT_PROTOCOL, body, { timeoutMs, maxResponseBytes: MAX_FRAME_BYTES, signal });
  const contributor = createContributor({ ...c, member });
  const coordinator = createCoordinator({ ...c, member, members, ask });

  const handle = async (raw: unknown, peer: RosterMember, signal: AbortSignal) => {
    const parsed = FrameSchema.safeParse(raw);
    if (!parsed.success)
      throw new PeerError('BAD_REQUEST', `malformed joint frame: ${parsed.error.issues[0]?.message}`);
    const f = parsed.data;
    const key = (b64: string) => {
      const k = fromBase64(b64);
      if (!k || k.length > MAX_PUBLIC_KEY_BYTES) throw new PeerError('BAD_REQUEST', 'malformed public key');
      return k;
    };
    if (f.op === 'query') {
      if (c.role !== 'easy-loan') throw new PeerError('BAD_REQUEST', 'this node does not coordinate joint queries');
      return coordinator.run(f.signed, key(f.publicKey), peer, signal);
    }
    if (peer.role !== 'easy-loan') throw new PeerError('FORBIDDEN', 'only the coordinator asks for contributions');
    if (f.op === 'join') return contributor.join(f.signed, f.attempt);
    return contributor.contribute(f.queryId, f.attempt, key(f.publicKey), f.participants, signal);
  };

  /** Sends one batch to the coordinator and decrypts what comes back. */
  const batch = async (
    principal: Principal,
    kind: JointKind,
    purpose: string,
    subjects: Array<{ uscc: string; consentId: string; consentHome: string }>,
    signal?: AbortSignal,
    parameters: 'auto' | 'standard' = 'auto',
    /** A small-set key pair made while consent was decided (used, or released, here). */
    early?: Promise<HePoolKeyPair>,
  ) => {
    // Small exposure batches use the small parameter set: a quarter of the bytes on every link.
    const set =
      kind === 'exposure' && parameters === 'auto' && subjects.length <= SMALL_EXPOSURE_BATCH
        ? SMALL_SET
        : STANDARD_SET;
    const made = early && (await early);
    if (made && set !== SMALL_SET) await made.release();
    const coordinatorNode = members().find((m) => m.role === 'easy-loan' && !c.quarantined().includes(m.nodeId));
    if (!coordinatorNode) {
      if (made && set === SMALL_SET) await made.release();
      throw new PeerUnavailableError('no coordinator (easy-loan platform) on the roster');
    }
    const keys = made && set === SMALL_SET ? made : await (await c.he()).createKeyPair({ signal, set });
    try {
      const query: JointQuery = {
        v: 1,
        kind,
        id: `joint-${randomUUID()}`,
        requester: c.nodeId,
        principal: principal.sub,
        purpose,
        batch: subjects,
        parameters: set.id,
        publicKeyHash: publicKeyHash(keys.publicKey),
        ...(kind === 'score' ? { model: `${c.model.id}@${c.model.version}` } : {}),
        issuedAt: new Date().toISOString(),
      };
      const signed = signJointQuery(query, c.signer);
      const answer = (await ask(
        coordinatorNode.nodeId,
        { op: 'query', signed, publicKey: toBase64(keys.publicKey) },
        QUERY_TIMEOUT_MS,
        signal,
      )) as CoordinatedResult;
      const values = new Map<string, number[]>();
      if (answer.status === 'OK') {
        const decrypt = async (name: string) => {
          const ct = fromBase64(answer.sums?.[name] ?? '');
          if (!ct) throw new PeerError('BAD_RESPONSE', `the coordinator sent no ${name} sum`);
          return keys.decrypt(ct, { signal, centred: kind === 'score' });
        };
        if (kind === 'exposure' && set === SMALL_SET) {
          const check = { enterprises: subjects.length, contributors: answer.contributors.length };
          const totals = checkExposureLimbs(await decrypt(SMALL_EXPOSURE_VECTOR), check);
          for (const v of ['outstanding', 'overdue', 'lenders'] as const) values.set(v, totals[v]);
        } else if (kind === 'exposure') {
          const check = { enterprises: subjects.length, contributors: answer.contributors.length };
          const [outstanding, packed] = await Promise.all([decrypt('outstanding'), decrypt('overdueAndLenders')]);
          values.set('outstanding', checkExposureTotals(outstanding, { ...check, bound: EXPOSURE_BOUNDS.outstanding }));
          const { overdue, lenders } = checkOverdueAndLenders(packed, check);
          values.set('overdue', overdue);
          values.set('lenders', lenders);
        } else
          values.set(
            'score',
            decodeScores(createScoringModel(scoringSpec(c.model)), await decrypt('score'), subjects.length),
          );
      }
      return { query, answer, values };
    } finally {
      await keys.release();
    }
  };

  return {
    register: () =>
      c.host.register({
        id: JOINT_PROTOCOL,
        roles: ['bank', 'easy-loan'],
        maxRequestBytes: MAX_FRAME_BYTES,
        timeoutMs: QUERY_TIMEOUT_MS,
        maxConcurrentPerPeer: 4,
        handle: (raw, ctx) => handle(raw, ctx.peer, ctx.signal),
      }),

    /**
     * Runs a joint query for a bank officer over up to {@link MAX_JOINT_RUN} enterprises.
     * @throws ForbiddenError when the caller is not an officer of this bank's node
     */
    async run(
      principal: Principal,
      kind: JointKind,
      usccs: readonly string[],
      purpose: string,
      options: {
        signal?: AbortSignal;
        onProgress?: (done: number, total: number) => void;
        correlationId?: string;
        /** `standard`: the full parameter set even for a small exposure batch (default `auto`: by batch size). */
        parameters?: 'auto' | 'standard';
      } = {},
    ): Promise<JointRun> {
      if (principal.role !== 'bank-officer' || principal.bank !== c.nodeId || c.role !== 'bank')
        throw new ForbiddenError("joint queries are run by a bank's officers on the bank's own node");
      if (usccs.length === 0 || usccs.length > MAX_JOINT_RUN)
        throw new InvalidInputError(`ask about 1 to ${MAX_JOINT_RUN} enterprises`);
      if (!purposeById(purpose)) throw new InvalidInputError('purpose is not a registered purpose');
      const subjects = usccs.map((u) => {
        const v = validateUscc(u);
        return { uscc: v.valid ? v.code : String(u).slice(0, 18) };
      });
      // A run that fits one small-set batch makes its key pair (an HE worker's job) while consent
      // is decided and logged here; nothing is sent before the decisions.
      let early =
        kind === 'exposure' && options.parameters !== 'standard' && subjects.length <= SMALL_EXPOSURE_BATCH
          ? c.he().then((pool) => pool.createKeyPair({ signal: options.signal, set: SMALL_SET }))
          : undefined;
      early?.catch(() => undefined);
      const unused = async () => {
        const pending = early;
        early = undefined;
        await pending?.then((k) => k.release()).catch(() => undefined);
      };
      const decisions = await decideJoint(
        { consents: c.consents, log: c.log, nodeId: c.nodeId },
        principal,
        kind === 'exposure' ? 'joint:exposure' : 'joint:score',
        purpose,
        subjects,
        options.correlationId ?? `joint-run-${randomUUID()}`,
      ).catch(async (err) => {
        await unused();
        throw err;
      });
      const rows: JointRow[] = subjects.map((s) => ({ uscc: s.uscc, status: 'REFUSED' }));
      for (const r of decisions.refused) rows[r.index].reason = r.reason;
      for (const [i, id] of decisions.consents) rows[i].consentId = id;
      const allowed = decisions.allowed;
      const out: JointRun = { kind, queryIds: [], rows, contributors: [], dropped: [], provenance: [] };
      if (kind === 'score') out.model = `${c.model.id}@${c.model.version}`;
      let done = decisions.refused.length;
      options.onProgress?.(done, subjects.length);
      for (let from = 0; from < allowed.length; from += MAX_JOINT_BATCH) {
        const indexes = allowed.slice(from, from + MAX_JOINT_BATCH);
        const mine = early;
        early = undefined;
        const batchSubjects = await Promise.all(
          indexes.map(async (i) => {
            const consent = await c.consents.get(decisions.consents.get(i)!);
            return { uscc: subjects[i].uscc, consentId: consent!.id, consentHome: consent!.body.home };
          }),
        ).catch(async (err) => {
          await mine?.then((k) => k.release()).catch(() => undefined);
          throw err;
        });
        try {
          const { query, answer, values } = await batch(
            principal,
            kind,
            purpose,
            batchSubjects,
            options.signal,
            options.parameters,
            mine,
          );
          out.queryIds.push(query.id);
          for (const n of answer.contributors) if (!out.contributors.includes(n)) out.contributors.push(n);
          for (const n of answer.dropped) if (!out.dropped.includes(n)) out.dropped.push(n);
          out.provenance.push(...answer.provenance.map((p) => ({ ...p, queryId: query.id })));
          for (const [k, i] of indexes.entries()) {
            const row = rows[i];
            if (answer.status !== 'OK') {
              row.status = 'FAILED';
              row.reason = answer.status;
              continue;
            }
            row.status = 'OK';
            if (kind === 'exposure') {
              row.outstandingYuan = values.get('outstanding')![k];
              row.overdueYuan = values.get('overdue')![k];
              row.lenders = values.get('lenders')![k];
            } else row.score = values.get('score')![k];
            const without = [
              ...Object.entries(answer.refused ?? {})
                .filter(([node, list]) => answer.contributors.includes(node) && list.some((x) => x.index === k))
                .map(([node]) => node),
              ...(kind === 'score' ? answer.dropped : []),
            ];
            if (without.length > 0) row.without = without;
          }
        } catch (err) {
          for (const i of indexes) {
            rows[i].status = 'FAILED';
            rows[i].reason = (err as { code?: string }).code ?? 'ERROR';
          }
        }
        done += indexes.length;
        options.onProgress?.(done, subjects.length);
      }
      await unused(); // no batch took it (nothing allowed)
      return out;
    },
  };
}

/** Joint queries of a node. */
export type JointQueries = ReturnType<typeof createJointQueries>;
