/**
 * Fetching authorised profile sections from the nodes that hold them (`/credit/sections/1.0.0`).
 *
 * A bank's node decides consent on its own copy first; only then does it sign its officer's
 * request (see `section-request.ts`) and send it to its gateway (the Xiamen credit centre, or the
 * easy-loan platform). The gateway decides again on its copy, serves what it holds and forwards
 * the bank's signed request to the holders of the other sections (city peers, process-data
 * sources) in parallel. Every holder checks the bank's signature and decides consent itself
 * (fetching the consent from its home if it has not heard of it yet), and every node logs its
 * decision under the shared correlation id. A holder that does not answer makes its sections
 * `unavailable` (PEER_UNAVAILABLE) instead of failing the whole read. Outgoing requests wait
 * their turn in a fair queue per peer, round-robin across officers, with a deadline.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AccessLogPort } from '../accesslog/port.ts';
import { type AccessService, ConsentRequiredError, type ProfileSections, type SectionSource } from '../authz/index.ts';
import type { Ed25519Signer } from '../crypto/index.ts';
import { fromBase64 } from '../crypto/index.ts';
import { SECTIONS, type Section, validateUscc } from '../model/index.ts';
import { createFairQueue, type FairQueue } from './fair-queue.ts';
import { type FederationHost, PeerError, PeerUnavailableError } from './host.ts';
import type { RosterMember } from './roster.ts';
import {
  createReplayGuard,
  REQUEST_FRESHNESS_MS,
  type SectionRequest,
  type SignedSectionRequest,
  SignedSectionRequestSchema,
  sectionRequestSignedBy,
  signSectionRequest,
} from './section-request.ts';

/** Protocol id of section fetches. */
export const SECTIONS_PROTOCOL = '/credit/sections/1.0.0';

const FrameSchema = z
  .object({
    signed: SignedSectionRequestSchema,
    /** Sections wanted from this node: all the signed ones, or a holder's share of them. */
    sections: z.array(z.enum(SECTIONS)).min(1).max(SECTIONS.length),
    /** A gateway's sub-request: answer from own data only. */
    local: z.boolean(),
  })
  .strict();

const HOLDER_ROLES = new Set(['credit-centre', 'city-peer', 'source']);
/** Roles that forward a bank's signed request to the holders. */
const GATEWAY_ROLES = new Set(['credit-centre', 'easy-loan']);

/** Requests in flight to one peer at once (below the peers' per-peer limit of 16). */
export const PEER_CONCURRENCY = 8;
/** Longest wait in the queue for a peer before a read fails with PEER_UNAVAILABLE. */
export const QUEUE_DEADLINE_MS = 20_000;

/** What the sections protocol needs. */
export interface SectionsComponents {
  host: FederationHost;
  access: AccessService;
  log: AccessLogPort;
  local: SectionSource;
  nodeId: string;
  role: string;
  /** This node's identity: signs its officers' requests. */
  signer: Ed25519Signer;
  /** Nodes whose answers are not trusted (an uncleared split-view, inconsistency or rollback alarm). */
  quarantined?: () => readonly string[];
  logger: Logger;
}

/** Sections a member serves. */
const serves = (m: RosterMember): readonly Section[] => m.serves ?? SECTIONS;

function merge(into: ProfileSections, from: ProfileSections, sections: readonly Section[]) {
  for (const s of sections) {
    if (into.servedBy[s]) continue;
    if (s === 'registration') {
      if (from.registration) {
        into.registration = from.registration;
        into.servedBy.registration = from.servedBy.registration;
      }
    } else if (from.facts[s] && from.servedBy[s]) {
      into.facts[s] = from.facts[s];
      into.servedBy[s] = from.servedBy[s];
    }
  }
}

function asConsentError(err: unknown): never {
  if (err instanceof PeerError && err.code === 'CONSENT_REQUIRED') {
    const d = (err.details ?? {}) as { missing?: string[]; reason?: string };
    throw new ConsentRequiredError(err.message, d.missing ?? [], d.reason ?? 'DENIED_BY_HOLDER');
  }
  throw err;
}

/** A refusal of a request before any consent decision; logged with its code. */
class RequestRefusedError extends PeerError {
  static override name = 'RequestRefusedError';
}

/** Creates the federated section source and registers the protocol handler. */
export function createSectionFetching(c: SectionsComponents) {
  const log = c.logger.child({ component: 'sections' });
  const members = () => (c.host.roster()?.roster.members ?? []).filter((m) => m.nodeId !== c.nodeId);
  const member = (nodeId: string) => c.host.roster()?.roster.members.find((m) => m.nodeId === nodeId);
  const quarantined = (nodeId: string) => c.quarantined?.().includes(nodeId) ?? false;
  const gateway = () =>
    members().find((m) => m.role === 'credit-centre' && !quarantined(m.nodeId)) ??
    members().find((m) => m.role === 'easy-loan' && !quarantined(m.nodeId));
  const replays = createReplayGuard();
  const queues = new Map<string, FairQueue>();

  /** Sends one frame through the peer's fair queue; a busy peer is tried again while time remains. */
  const ask = (peer: RosterMember, frame: z.infer<typeof FrameSchema>): Promise<ProfileSections> => {
    let queue = queues.get(peer.nodeId);
    if (!queue) {
      queue = createFairQueue({ concurrency: PEER_CONCURRENCY, deadlineMs: QUEUE_DEADLINE_MS });
      queues.set(peer.nodeId, queue);
    }
    const key = `${frame.signed.request.bank}/${frame.signed.request.principal}`;
    return queue.run(key, async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          return (await c.host.request(peer.nodeId, SECTIONS_PROTOCOL, frame, { timeoutMs: 8000 })) as ProfileSections;
        } catch (err) {
          if (err instanceof PeerError && err.code === 'BUSY' && attempt < 4) {
            await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
            continue;
          }
          return asConsentError(err);
        }
      }
    });
  };

  /** Withholds the sections a quarantined node served: they become unavailable (PEER_UNAVAILABLE). */
  const distrust = (answer: ProfileSections): ProfileSections => {
    const bad = (Object.entries(answer.servedBy ?? {}) as Array<[Section, string]>).filter(([, by]) => quarantined(by));
    if (bad.length === 0) return answer;
    const out: ProfileSections = { ...answer, facts: { ...answer.facts }, servedBy: { ...answer.servedBy } };
    for (const [section, by] of bad) {
      if (section === 'registration') out.registration = undefined;
      else delete out.facts[section];
      delete out.servedBy[section];
      out.unavailable = [...(out.unavailable ?? []), section];
      log.warn({ peer: by, section }, 'section from a quarantined node withheld');
    }
    return out;
  };

  /** Reads from own data and, for the rest, from the holders of each section. */
  const federated: SectionSource = {
    async read(uscc, sections, ctx) {
      const consent = ctx.consent;
      if (!consent) throw new ConsentRequiredError('no consent decided for this read', [...sections], 'NO_CONSENT');
      const forwarded = ctx.forward as SignedSectionRequest | undefined;
      if (!forwarded && !HOLDER_ROLES.has(c.role)) {
        // A bank's node: sign the officer's request and send it to the gateway.
        const gw = gateway();
        if (!gw) throw new PeerUnavailableError('no gateway node on the roster');
        const request: SectionRequest = {
          v: 1,
          bank: ctx.principal.bank ?? '',
          principal: ctx.principal.sub,
          uscc,
          sections: [...sections],
          purpose: ctx.purpose,
          consentId: consent.id,
          consentHome: consent.body.home,
          correlationId: ctx.correlationId,
          issuedAt: new Date().toISOString(),
        };
        const signed = signSectionRequest(request, c.signer);
        return distrust(await ask(gw, { signed, sections: [...sections], local: false }));
      }
      const self = member(c.nodeId);
      const out: ProfileSections = { uscc, facts: {}, servedBy: {}, unavailable: [] };
      // A gateway that holds data (a credit centre) serves its own share; the easy-loan platform holds none.
      const mine = HOLDER_ROLES.has(c.role) ? sections.filter((s) => !self || serves(self).includes(s)) : [];
      if (mine.length > 0) {
        const own = await c.local.read(uscc, mine, ctx);
        if (own.held) merge(out, own, mine);
      }
      const rest = sections.filter((s) => !out.servedBy[s]);
      if (rest.length === 0) return { ...out, held: true };
      const signed = forwarded;
      if (!signed) {
        // A read made at this holder itself (no bank request to forward): its own data only.
        out.held = Object.keys(out.servedBy).length > 0;
        return out;
      }
      const candidates = members().filter((m) => HOLDER_ROLES.has(m.role) && serves(m).some((s) => rest.includes(s)));
      const failed = new Set<Section>();
      // Every holder answers (and logs) before the gateway does: settle all, then decide.
      const settled = await Promise.allSettled(
        candidates.map(async (m) => {
          const want = rest.filter((s) => serves(m).includes(s));
          if (quarantined(m.nodeId)) {
            for (const s of want) failed.add(s);
            return undefined;
          }
          try {
            return { want, r: await ask(m, { signed, sections: want, local: true }) };
          } catch (err) {
            if (err instanceof ConsentRequiredError) throw err;
            for (const s of want) failed.add(s);
            log.warn({ peer: m.nodeId, code: (err as { code?: string }).code }, 'holder unavailable');
            return undefined;
          }
        }),
      );
      const refused = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
      if (refused) throw refused.reason;
      for (const a of settled) if (a.status === 'fulfilled' && a.value?.r.held) merge(out, a.value.r, a.value.want);
      out.unavailable = rest.filter((s) => !out.servedBy[s] && failed.has(s));
      out.held = Object.keys(out.servedBy).length > 0;
      return out;
    },
  };

  /** Logs a request refused before any consent decision (forged, stale, replayed, misrouted). */
  const refuse = async (request: SectionRequest, peer: RosterMember, code: string, message: string) => {
    const uscc = validateUscc(request.uscc);
    await c.log.append({
      time: new Date().toISOString(),
      actor: { node: c.nodeId, principal: `${request.bank}/${request.principal}`, role: 'bank-officer' },
      action: 'PROFILE_READ',
      decision: 'DENY',
      reason: code,
      purpose: request.purpose,
      consentId: request.consentId,
      scopes: [...request.sections],
      ...(uscc.valid ? { subject: uscc.code } : {}),
      correlationId: request.correlationId,
    });
    log.warn({ peer: peer.nodeId, code }, 'sections request refused');
    throw new RequestRefusedError(code === 'BAD_REQUEST' ? 'BAD_REQUEST' : 'FORBIDDEN', message);
  };

  const register = () =>
    c.host.register({
      id: SECTIONS_PROTOCOL,
      roles: ['bank', 'easy-loan', 'credit-centre'],
      maxRequestBytes: 16 * 1024,
      timeoutMs: 10_000,
      maxConcurrentPerPeer: 16,
      handle: async (raw, ctx) => {
        const parsed = FrameSchema.safeParse(raw);
        if (!parsed.success)
          throw new PeerError('BAD_REQUEST', `malformed sections request: ${parsed.error.issues[0]?.path.join('.')}`);
        const { signed, sections, local } = parsed.data;
        const req = signed.request;
        // A bank sends only its own requests; a gateway forwards a bank's request to the holders.
        if (!local && (ctx.peer.role !== 'bank' || req.bank !== ctx.peer.nodeId))
          return refuse(req, ctx.peer, 'NOT_REQUESTER', 'a bank asks only for itself, through its own node');
        if (!local && !GATEWAY_ROLES.has(c.role))
          return refuse(req, ctx.peer, 'NOT_GATEWAY', 'this node is not a gateway: ask the credit centre');
        if (local && (!GATEWAY_ROLES.has(ctx.peer.role) || !HOLDER_ROLES.has(c.role)))
          return refuse(req, ctx.peer, 'NOT_GATEWAY', 'only a gateway forwards requests, and only to holders');
        const bank = member(req.bank);
        const key = bank?.role === 'bank' ? fromBase64(bank.signingKey) : undefined;
        if (!key || !sectionRequestSignedBy(signed, key))
          return refuse(req, ctx.peer, 'BAD_SIGNATURE', 'the request is not signed by the bank it names');
        if (Math.abs(Date.now() - Date.parse(req.issuedAt)) > REQUEST_FRESHNESS_MS)
          return refuse(req, ctx.peer, 'STALE_REQUEST', 'the request is too old or from the future');
        if (!sections.every((s) => req.sections.includes(s)))
          return refuse(req, ctx.peer, 'BAD_REQUEST', 'sections asked for are not in the signed request');
        if (!replays.first(signed.signature))
          return refuse(req, ctx.peer, 'REPLAYED_REQUEST', 'this request was already served');
        try {
          return await c.access.readProfile(
            {
              principal: { sub: req.principal, role: 'bank-officer', bank: req.bank },
              uscc: req.uscc,
              sections,
              purpose: req.purpose,
              consentId: req.consentId,
              consentHome: req.consentHome,
              correlationId: req.correlationId,
              forward: signed,
            },
            { source: local ? c.local : federated },
          );
        } catch (err) {
          if (err instanceof ConsentRequiredError)
            throw new PeerError('CONSENT_REQUIRED', err.message, { missing: err.missing, reason: err.reason });
          throw err;
        }
      },
    });

  return { source: federated, register };
}
