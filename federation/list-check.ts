/**
 * Private list check (`/credit/list-check/1.0.0`, DESIGN §7.3): a bank checks a batch of USCCs
 * against the dishonest-debtor (失信被执行人) and serious-dishonesty (严重失信主体) lists of the
 * credit centres, without the centres learning which codes it asked about and without learning the
 * lists (OPRF over X25519, `crypto/psi`).
 *
 * - A centre keeps each list prepared under its OPRF key (a secret in its private store) as a
 *   versioned set of PRF values, signed with its roster key; it rescans its facts and updates the
 *   lists incrementally (listing added, repaired, expired).
 * - `sync`: a bank's node keeps a mirror of each list, fetching a delta since its version (or a
 *   snapshot) and checking the centre's signature.
 * - `evaluate`: the bank sends its blinded points (padded and balanced, so their number depends only
 *   on the number of codes); the centre multiplies them by its key, counts them against the bank's
 *   daily quota and logs the evaluation (how many, for whom, no codes); the bank unblinds and looks
 *   the results up in its mirrors.
 *
 * The centre cannot check consent (it does not learn which enterprises): the bank's node decides and
 * logs consent (`joint:listCheck`) for every enterprise before anything is sent; the centre's log
 * records that the bank evaluated so many codes, and the quota bounds how many codes a bank can test.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AccessLogPort } from '../accesslog/port.ts';
import { type ConsentService, decideJoint, ForbiddenError, InvalidInputError, type Principal } from '../authz/index.ts';
import { type Ed25519Signer, ed25519Verify, fromBase64, toBase64, toUtf8 } from '../crypto/index.ts';
import {
  blindAllOnPool,
  blindedBatchSize,
  createListMirror,
  createOprfServer,
  createPsiPool,
  decodeDelta,
  decodePoints,
  decodeSnapshot,
  encodeDelta,
  encodePoints,
  encodeSnapshot,
  type ListMirror,
  MAX_BATCH,
  type OprfServer,
  type PreparedList,
  type PsiPool,
  prepareList,
} from '../crypto/psi/index.ts';
import { validateUscc } from '../model/index.ts';
import type { ProfileStore } from '../profiles/index.ts';
import { jsonSublevel, type RootDb } from '../storage/index.ts';
import { type FederationHost, PeerError } from './host.ts';
import type { RosterMember } from './roster.ts';

/** Protocol id of the private list check. */
export const LIST_CHECK_PROTOCOL = '/credit/list-check/1.0.0';

/** The lists a centre serves, and the fact subtypes that make an enterprise listed. */
export const LISTS = {
  'dishonest-debtor': 'DISHONEST_DEBTOR',
  'serious-dishonesty': 'SERIOUS_DISHONESTY',
} as const;
/** A list's name. */
export type ListName = keyof typeof LISTS;
const LIST_NAMES = Object.keys(LISTS) as ListName[];

/** Points a bank may have a centre evaluate per day (a bound on how many codes it can test). */
export const DAILY_POINT_QUOTA = 500_000;
/** How often a centre rescans its facts for listing changes. */
export const LIST_REFRESH_MS = 30_000;
const CENTRE_ROLES = new Set(['credit-centre', 'city-peer']);
/** List changes applied between two yields to the event loop. */
const REFRESH_SLICE = 1024;

const FrameSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('info') }).strict(),
  z
    .object({
      op: z.literal('sync'),
      list: z.enum(LIST_NAMES as [ListName, ...ListName[]]),
      since: z.number().int().min(0).optional(),
    })
    .strict(),
  z
    .object({
      op: z.literal('evaluate'),
      principal: z.string().min(1).max(128),
      purpose: z.string().min(1).max(64),
      correlationId: z.string().min(8).max(64),
      points: z.string().max(2_000_000),
    })
    .strict(),
]);

/** What the list check needs. */
export interface ListCheckComponents {
  host: FederationHost;
  db: RootDb;
  profiles: ProfileStore;
  consents: ConsentService;
  log: AccessLogPort;
  nodeId: string;
  role: string;
  signer: Ed25519Signer;
  quarantined: () => readonly string[];
  logger: Logger;
}

/** One enterprise's answer. */
export interface ListCheckRow {
  uscc: string;
  /** OK, or REFUSED (no consent here, malformed code). */
  status: 'OK' | 'REFUSED';
  reason?: string;
  /** Lists the enterprise is on, by centre. */
  listed: Array<{ centre: string; list: ListName }>;
}

/** The answer to a check. */
export interface ListCheckResult {
  rows: ListCheckRow[];
  /** Centres asked, with the list versions the answer reflects. */
  centres: Array<{ centre: string; versions: Record<string, number> }>;
  /** Centres that did not answer: their lists are not reflected (never a silent "not listed"). */
  unavailable: string[];
}

/** Creates the list check: the centre's lists and handler, and the bank's checking side. */
export function createListCheck(c: ListCheckComponents) {
  const log = c.logger.child({ component: 'list-check' });
  const isCentre = CENTRE_ROLES.has(c.role);
  const store = jsonSublevel<string>(c.db, 'list-check');
  let server: OprfServer | undefined;
  const lists = new Map<ListName, PreparedList>();
  let refreshing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const usage = new Map<string, { day: string; points: number }>();
  /** The codes each prepared list holds now (what the next rescan compares with). */
  const listed = new Map<ListName, Set<string>>();
  const mirrors = new Map<string, ListMirror>();

  /** The centre's OPRF key: made once, kept in its private store. */
  const oprf = async () => {
    if (server) return server;
    let key = await store.get('oprf-key');
    if (!key) {
      key = toBase64(new Uint8Array(randomBytes(32)));
      await store.put('oprf-key', key);
    }
    server = createOprfServer({ key: fromBase64(key)! });
    return server;
  };

  /** The codes currently on each list (active facts only). */
  const current = async () => {
    const out = new Map<ListName, Set<string>>(LIST_NAMES.map((l) => [l, new Set<string>()]));
    for await (const f of c.profiles.factsOfSubtypes(Object.values(LISTS))) {
      if (f.status === 'REPAIRED' || f.status === 'EXPIRED' || f.status === 'CORRECTED') continue;
      const list = LIST_NAMES.find((l) => LISTS[l] === f.subtype);
      if (list) out.get(list)!.add(f.uscc);
    }
    return out;
  };

  /** Rescans and updates the prepared lists incrementally (a new version per change). */
  const refresh = () => {
    refreshing ??= (async () => {
      const s = await oprf();
      const now = await current();
      for (const name of LIST_NAMES) {
        const codes = now.get(name)!;
        const list = lists.get(name);
        if (!list) {
          lists.set(name, await prepareList([...codes].map(toUtf8), s, { signer: c.signer }));
          continue;
        }
        const before = listed.get(name) ?? new Set<string>();
        // Each change is a scalar multiplication: yield now and then so the node keeps answering.
        let n = 0;
        const pace = async () => {
          if (++n % REFRESH_SLICE === 0) await new Promise((r) => setImmediate(r));
        };
        for (const code of codes)
          if (!before.has(code)) {
            list.add(toUtf8(code));
            await pace();
          }
        for (const code of before)
          if (!codes.has(code)) {
            list.remove(toUtf8(code));
            await pace();
          }
      }
      for (const name of LIST_NAMES) listed.set(name, now.get(name)!);
    })().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  };

  const handle = async (raw: unknown, peer: RosterMember) => {
    if (!isCentre) throw new PeerError('BAD_REQUEST', 'this node holds no lists');
    const parsed = FrameSchema.safeParse(raw);
    if (!parsed.success) throw new PeerError('BAD_REQUEST', 'malformed list-check frame');
    const f = parsed.data;
    if (lists.size < LIST_NAMES.length) await refresh();
    const s = await oprf();
    if (f.op === 'info')
      return {
        keyId: s.publicInfo.keyId,
        maxPoints: s.publicInfo.maxPoints,
        versions: Object.fromEntries(LIST_NAMES.map((l) => [l, lists.get(l)!.version])),
      };
    if (f.op === 'sync') {
      const list = lists.get(f.list)!;
      const delta = f.since !== undefined ? list.deltaSince(f.since) : undefined;
      return delta ? { delta: toBase64(encodeDelta(delta)) } : { snapshot: toBase64(encodeSnapshot(list.snapshot())) };
    }
    // evaluate: bounded per bank and day, logged (how many points, for whom; never which codes).
    const bytes = fromBase64(f.points);
    if (!bytes) throw new PeerError('BAD_REQUEST', 'points must be base64');
    let points: Uint8Array[];
    try {
      points = decodePoints(bytes, s.publicInfo.maxPoints);
    } catch (err) {
      throw new PeerError('BAD_REQUEST', (err as Error).message);
    }
    const day = new Date().toISOString().slice(0, 10);
    const u = usage.get(peer.nodeId);
    const used = u?.day === day ? u.points : 0;
    const refuse = used + points.length > DAILY_POINT_QUOTA;
    await c.log.append({
      time: new Date().toISOString(),
      actor: { node: c.nodeId, principal: `${peer.nodeId}/${f.principal}`, role: 'bank-officer' },
      action: 'JOINT_QUERY',
      decision: refuse ? 'DENY' : 'ALLOW',
      reason: refuse ? 'QUOTA' : `EVALUATED:${points.length}`,
      purpose: f.purpose,
      scopes: ['joint:listCheck'],
      correlationId: f.correlationId,
    });
    if (refuse) throw new PeerError('FORBIDDEN', "the bank's daily list-check quota is used up");
    usage.set(peer.nodeId, { day, points: used + points.length });
    try {
      return { points: toBase64(encodePoints(await s.evaluateOn(psi(), points))) };
    } catch (err) {
      throw new PeerError('BAD_REQUEST', (err as Error).message);
    }
  };

  const members = () => c.host.roster()?.roster.members ?? [];
  /** Worker threads for the per-point OPRF work (blind, evaluate, unblind), started on first use. */
  let psiPool: PsiPool | undefined;
  const psi = () => {
    psiPool ??= createPsiPool();
    return psiPool;
  };

  /** Brings the bank's mirror of one centre's list up to date. */
  const sync = async (centre: RosterMember, list: ListName, keyId: string) => {
    const id = `${centre.nodeId}/${list}`;
    const key = fromBase64(centre.signingKey)!;
    let mirror = mirrors.get(id);
    if (!mirror || mirror.keyId !== keyId) {
      mirror = createListMirror({ keyId, verify: (m, sig) => ed25519Verify(key, m, sig) });
      mirrors.set(id, mirror);
    }
    const answer = (await c.host.request(
      centre.nodeId,
      LIST_CHECK_PROTOCOL,
      { op: 'sync', list, ...(mirror.version !== undefined ? { since: mirror.version } : {}) },
      { timeoutMs: 30_000, maxResponseBytes: 64 * 1024 * 1024 },
    )) as { delta?: string; snapshot?: string };
    if (answer.delta) mirror.applyDelta(decodeDelta(fromBase64(answer.delta)!));
    else if (answer.snapshot) mirror.applySnapshot(decodeSnapshot(fromBase64(answer.snapshot)!));
    else throw new PeerError('BAD_RESPONSE', 'no list in the answer');
    return mirror;
  };

  return {
    async register() {
      await c.host.register({
        id: LIST_CHECK_PROTOCOL,
        roles: ['bank'],
        maxRequestBytes: 2_100_000,
        timeoutMs: 60_000,
        maxConcurrentPerPeer: 2,
        handle: (raw, ctx) => handle(raw, ctx.peer),
      });
      if (!isCentre) return;
      void refresh().catch((err) => log.error({ err: (err as Error).message }, 'list preparation failed'));
      timer = setInterval(
        () => void refresh().catch((err) => log.error({ err: (err as Error).message }, 'list refresh failed')),
        LIST_REFRESH_MS,
      );
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      void psiPool?.close();
      psiPool = undefined;
    },
    /** A centre: rescans its facts now (after a listing changes). */
    refresh,

    /**
     * A bank: checks up to {@link MAX_BATCH} enterprises against the lists of the given centres
     * (default: every credit centre and city peer on the roster).
     */
    async check(
      principal: Principal,
      usccs: readonly string[],
      purpose: string,
      options: { centres?: readonly string[]; correlationId: string },
    ): Promise<ListCheckResult> {
      if (principal.role !== 'bank-officer' || principal.bank !== c.nodeId || c.role !== 'bank')
        throw new ForbiddenError("list checks are run by a bank's officers on the bank's own node");
      if (usccs.length === 0 || usccs.length > MAX_BATCH)
        throw new InvalidInputError(`check 1 to ${MAX_BATCH} enterprises at a time`);
      const subjects = usccs.map((u) => {
        const v = validateUscc(u);
        return { uscc: v.valid ? v.code : String(u).slice(0, 18) };
      });
      const centres = members().filter(
        (m) =>
          CENTRE_ROLES.has(m.role) &&
          !c.quarantined().includes(m.nodeId) &&
          (!options.centres || options.centres.includes(m.nodeId)),
      );
      // Every code is hashed to the curve and blinded, afresh for each centre (the centres cannot
      // link one bank's batches across centres), on the worker threads while consent is decided
      // and logged: local work, nothing is sent before the decisions, and only the allowed codes are.
      const inputs = subjects.map((s) => toUtf8(s.uscc));
      const hashing = psi().hashToCurve(inputs);
      hashing.catch(() => undefined);
      const blinding = new Map(
        centres.map((centre) => {
          const all = hashing.then((hashed) => blindAllOnPool(psi(), inputs, { hashed }));
          all.catch(() => undefined);
          return [centre.nodeId, all] as const;
        }),
      );
      // Each centre's key id and list updates are fetched meanwhile too (no code is sent with them).
      const updates = new Map(
        centres.map((centre) => {
          const update = (async () => {
            const info = (await c.host.request(centre.nodeId, LIST_CHECK_PROTOCOL, { op: 'info' })) as {
              keyId: string;
              versions: Record<string, number>;
            };
            return Promise.all(LIST_NAMES.map((l) => sync(centre, l, info.keyId)));
          })();
          update.catch(() => undefined);
          return [centre.nodeId, update] as const;
        }),
      );
      // No request of this check outlives it (a centre bounds the requests in flight per bank).
      const settled = () => Promise.allSettled([...updates.values(), ...blinding.values(), hashing]);
      const decisions = await decideJoint(
        { consents: c.consents, log: c.log, nodeId: c.nodeId },
        principal,
        'joint:listCheck',
        purpose,
        subjects,
        options.correlationId,
      ).catch(async (err) => {
        await settled();
        throw err;
      });
      const rows: ListCheckRow[] = subjects.map((s) => ({ uscc: s.uscc, status: 'REFUSED', listed: [] }));
      for (const r of decisions.refused) rows[r.index].reason = r.reason;
      for (const i of decisions.allowed) rows[i].status = 'OK';
      const out: ListCheckResult = { rows, centres: [], unavailable: [] };
      if (decisions.allowed.length === 0) {
        await settled();
        return out;
      }
      // A failure here is this node's (its worker threads), not a centre's.
      await Promise.all([hashing, ...blinding.values()]).catch(async (err) => {
        await settled();
        throw err;
      });
      await Promise.all(
        centres.map(async (centre) => {
          try {
            const mirrorsOf = await updates.get(centre.nodeId)!;
            const batch = await (await blinding.get(centre.nodeId)!).select(decisions.allowed);
            if (batch.blinded.length !== blindedBatchSize(new Set(decisions.allowed.map((i) => subjects[i].uscc)).size))
              throw new PeerError('BAD_REQUEST', 'unexpected blinded batch size');
            const answer = (await c.host.request(
              centre.nodeId,
              LIST_CHECK_PROTOCOL,
              {
                op: 'evaluate',
                principal: principal.sub,
                purpose,
                correlationId: options.correlationId,
                points: toBase64(encodePoints(batch.blinded)),
              },
              { timeoutMs: 60_000, maxResponseBytes: 4 * 1024 * 1024 },
            )) as { points?: string };
            const values = await batch.finalize(decodePoints(fromBase64(answer.points ?? '') ?? new Uint8Array()));
            for (const [k, i] of decisions.allowed.entries())
              for (const [j, list] of LIST_NAMES.entries())
                if (mirrorsOf[j].has(values[k])) rows[i].listed.push({ centre: centre.nodeId, list });
            out.centres.push({
              centre: centre.nodeId,
              versions: Object.fromEntries(LIST_NAMES.map((l, j) => [l, mirrorsOf[j].version ?? 0])),
            });
          } catch (err) {
            log.warn({ peer: centre.nodeId, err: (err as Error).message }, 'list check: centre unavailable');
            out.unavailable.push(centre.nodeId);
          }
        }),
      );
      return out;
    },
  };
}

/** The list check of a node. */
export type ListCheck = ReturnType<typeof createListCheck>;
