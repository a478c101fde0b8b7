/**
 * Fetching authorised profile sections from the nodes that hold them (`/credit/sections/1.0.0`).
 *
 * A bank's node forwards a read to its gateway (the Xiamen credit centre, or the easy-loan
 * platform); the gateway serves what it holds and asks the holders of the other sections (city
 * peers, process-data sources) in parallel. Every hop carries the consent record and the
 * enterprise key binding, so each holder checks the consent itself, offline, and logs its part
 * under the shared correlation id. A holder that does not answer makes its sections
 * `unavailable` (PEER_UNAVAILABLE) instead of failing the whole read.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  type AccessService,
  ConsentRequiredError,
  type ConsentService,
  ForbiddenError,
  type ProfileSections,
  type SectionSource,
} from '../authz/index.ts';
import { SECTIONS, type Section } from '../model/index.ts';
import { type FederationHost, PeerError, PeerUnavailableError } from './host.ts';
import type { RosterMember } from './roster.ts';

/** Protocol id of section fetches. */
export const SECTIONS_PROTOCOL = '/credit/sections/1.0.0';

const RequestSchema = z
  .object({
    uscc: z.string().length(18),
    sections: z.array(z.enum(SECTIONS)).min(1).max(SECTIONS.length),
    purpose: z.string().max(64),
    consentId: z.string().max(64).optional(),
    consent: z.unknown().optional(),
    binding: z.unknown().optional(),
    requester: z.object({ bank: z.string().max(63), principal: z.string().max(128) }).strict(),
    correlationId: z.string().max(64),
    /** Answer from own data only (a gateway's sub-request). */
    local: z.boolean(),
  })
  .strict();
type SectionsRequest = z.infer<typeof RequestSchema>;

const HOLDER_ROLES = new Set(['credit-centre', 'city-peer', 'source']);

/** What the sections protocol needs. */
export interface SectionsComponents {
  host: FederationHost;
  access: AccessService;
  consents: ConsentService;
  local: SectionSource;
  nodeId: string;
  role: string;
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

/** Creates the federated section source and registers the protocol handler. */
export function createSectionFetching(c: SectionsComponents) {
  const log = c.logger.child({ component: 'sections' });
  const members = () => (c.host.roster()?.roster.members ?? []).filter((m) => m.nodeId !== c.nodeId);
  const me = () => c.host.roster()?.roster.members.find((m) => m.nodeId === c.nodeId);
  const gateway = () =>
    members().find((m) => m.role === 'credit-centre') ?? members().find((m) => m.role === 'easy-loan');

  const ask = async (member: RosterMember, body: SectionsRequest): Promise<ProfileSections> => {
    try {
      return (await c.host.request(member.nodeId, SECTIONS_PROTOCOL, body, { timeoutMs: 8000 })) as ProfileSections;
    } catch (err) {
      return asConsentError(err);
    }
  };

  const bodyOf = async (
    uscc: string,
    sections: readonly Section[],
    ctx: Parameters<SectionSource['read']>[2],
    local: boolean,
  ) => ({
    uscc,
    sections: [...sections],
    purpose: ctx.purpose,
    ...(ctx.consent ? { consentId: ctx.consent.id, consent: ctx.consent } : {}),
    binding: await c.consents.bindingFor(uscc),
    requester: { bank: ctx.principal.bank ?? '', principal: ctx.principal.sub },
    correlationId: ctx.correlationId,
    local,
  });

  /** Reads from own data and, for the rest, from the holders of each section. */
  const federated: SectionSource = {
    async read(uscc, sections, ctx) {
      const self = me();
      const isHolder = HOLDER_ROLES.has(c.role);
      const out: ProfileSections = { uscc, facts: {}, servedBy: {}, unavailable: [] };
      if (!isHolder) {
        const gw = gateway();
        if (!gw) throw new PeerUnavailableError('no gateway node on the roster');
        return ask(gw, await bodyOf(uscc, sections, ctx, false));
      }
      const mine = sections.filter((s) => !self || serves(self).includes(s));
      if (mine.length > 0) {
        const own = await c.local.read(uscc, mine, ctx);
        // Without a consent known here, this node's own data is refused (and the refusal logged here).
        if (own.held && !ctx.consent)
          throw new ConsentRequiredError(`no live consent covers ${mine.join(', ')}`, mine, 'NO_CONSENT');
        if (own.held) merge(out, own, mine);
      }
      const rest = sections.filter((s) => !out.servedBy[s]);
      if (rest.length === 0) return { ...out, held: true };
      const candidates = members().filter((m) => HOLDER_ROLES.has(m.role) && serves(m).some((s) => rest.includes(s)));
      const failed = new Set<Section>();
      // Every holder answers (and logs) before the gateway does: settle all, then decide.
      const settled = await Promise.allSettled(
        candidates.map(async (m) => {
          const want = rest.filter((s) => serves(m).includes(s));
          try {
            return { m, want, r: await ask(m, await bodyOf(uscc, want, ctx, true)) };
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

  const register = () =>
    c.host.register({
      id: SECTIONS_PROTOCOL,
      roles: ['bank', 'easy-loan', 'credit-centre', 'city-peer'],
      maxRequestBytes: 256 * 1024,
      timeoutMs: 10_000,
      maxConcurrentPerPeer: 16,
      handle: async (raw, ctx) => {
        const parsed = RequestSchema.safeParse(raw);
        if (!parsed.success)
          throw new PeerError('BAD_REQUEST', `malformed sections request: ${parsed.error.issues[0]?.path.join('.')}`);
        const req = parsed.data;
        // A bank may only ask for itself; gateways ask on behalf of the bank named in the request.
        if (ctx.peer.role === 'bank' && req.requester.bank !== ctx.peer.nodeId)
          throw new ForbiddenError('a bank asks only for itself');
        if (req.binding !== undefined && req.binding !== null) {
          const known = await c.consents.bindingFor(req.uscc);
          if (!known) await c.consents.importBinding(req.binding as never);
        }
        // A consent this node already knows is never overwritten from a request: status changes
        // come only from the consent's home node (consent sync), so a stale or doctored copy
        // cannot revive a revoked consent.
        if (req.consentId && req.consent && !(await c.consents.get(req.consentId)))
          await c.consents.importRecord(req.consent as never).catch((err) => {
            throw new PeerError('BAD_REQUEST', `consent not acceptable: ${(err as Error).message}`);
          });
        const principal = { sub: req.requester.principal, role: 'bank-officer' as const, bank: req.requester.bank };
        // A holder that knows nothing of this enterprise says so without deciding or logging anything.
        // Otherwise the sections just read are released only if the consent decision allows (read once).
        let source: SectionSource = federated;
        if (req.local) {
          const own = await c.local.read(req.uscc, req.sections, {
            principal,
            purpose: req.purpose,
            correlationId: req.correlationId,
          });
          if (!own.held) return { uscc: req.uscc, facts: {}, servedBy: {}, unavailable: [], held: false };
          source = { read: async () => own };
        }
        try {
          return await c.access.readProfile(
            {
              principal,
              uscc: req.uscc,
              sections: req.sections,
              purpose: req.purpose,
              consentId: req.consentId,
              correlationId: req.correlationId,
            },
            // A sub-request reads only this node's data and never delegates; a gateway request may.
            { source, delegate: !req.local },
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
