/**
 * The agreements a centre holds (sublevel `evaluation-agreements`, beside the roster): proposals
 * signed by one party, and agreements signed by both, which are distributed to every centre.
 *
 * - `propose` (centre staff): drafts an agreement with another centre, signs it as this party and
 *   sends it to the other party, which holds it as a proposal.
 * - `sign` (centre staff of the other party): counter-signs a proposal held here; the agreement is
 *   then in force (within its validity) and sent to every centre.
 * - `receive` / `offer`: an agreement from a peer or a file is checked against the roster (both
 *   parties must have signed it with their roster keys) before it is kept; anything else is refused
 *   with a reason and changes nothing.
 */
import type { Ed25519Signer } from '../crypto/index.ts';
import type { CityId } from '../model/index.ts';
import {
  type AgreementBody,
  type AgreementDraft,
  agreementId,
  draftAgreement,
  inForceAt,
  type RecognitionRule,
  type SignedAgreement,
  signAgreement,
  verifyAgreement,
} from './agreement.ts';
import { AgreementInvalidError, NotFoundError } from './errors.ts';
import { schemeForCity } from './schemes.ts';
import { type EvaluationStore, keys, type StoredAgreement } from './store.ts';
import type { CentreInfo } from './types.ts';

/** What a centre's staff asks for when proposing. */
export interface AgreementProposal {
  /** Node id of the other centre. */
  with: string;
  recognise?: RecognitionRule[];
  freshnessDays?: number;
  /** Validity in days from now (default 3 years). */
  days?: number;
}

/** Where an agreement stands at a given time. */
export type AgreementStatus = 'PROPOSED' | 'IN_FORCE' | 'NOT_YET' | 'EXPIRED';

/** The agreement book of a centre. */
export interface AgreementBook {
  /** Every agreement and proposal held here. */
  list(): Promise<StoredAgreement[]>;
  get(id: string): Promise<StoredAgreement | undefined>;
  /** Agreements signed by both parties between two cities, newest first. */
  between(a: CityId, b: CityId): Promise<StoredAgreement[]>;
  /** Drafts, signs and keeps a proposal; returns it (the caller sends it to the other party). */
  propose(p: AgreementProposal): Promise<StoredAgreement>;
  /** Counter-signs a proposal held here; returns the agreement (the caller distributes it). */
  sign(id: string): Promise<StoredAgreement>;
  /** Keeps a proposal another centre sent, after checking its signature; `from` must have signed it. */
  receiveProposal(from: string, input: unknown): Promise<StoredAgreement>;
  /** Keeps an agreement signed by both parties (from a peer or a file). */
  receive(input: unknown): Promise<StoredAgreement>;
  /** Where an agreement stands at `now`. */
  status(a: StoredAgreement, now: number): AgreementStatus;
}

/** What the agreement book needs. */
export interface AgreementBookComponents {
  store: EvaluationStore;
  signer: Ed25519Signer;
  nodeId: string;
  city: CityId;
  centres: () => CentreInfo[];
  now: () => number;
}

/** Creates the agreement book. */
export function createAgreementBook(c: AgreementBookComponents): AgreementBook {
  const sub = c.store.agreements;
  let cache: Map<string, StoredAgreement> | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const load = async () => {
    if (!cache) {
      const m = new Map<string, StoredAgreement>();
      for await (const v of sub.values({ gte: 'a!', lt: 'a"' })) m.set(v.id, v);
      cache ??= m;
    }
    return cache;
  };
  /** Serialised writes: a proposal and its counter-signature never race. */
  const write = <T>(fn: () => Promise<T>) => {
    const next = queue.then(fn);
    queue = next.catch(() => undefined);
    return next;
  };
  const keep = async (a: StoredAgreement) => {
    await sub.put(keys.agreement(a.id), a);
    (await load()).set(a.id, a);
    return a;
  };
  const stored = (agreement: SignedAgreement, signedBy: string[]): StoredAgreement => ({
    id: agreementId(agreement.body),
    agreement,
    signedBy,
    receivedAt: new Date(c.now()).toISOString(),
  });
  const full = (a: StoredAgreement) => a.signedBy.length === 2;

  return {
    async list() {
      return [...(await load()).values()].sort((a, b) =>
        b.agreement.body.issuedAt.localeCompare(a.agreement.body.issuedAt),
      );
    },
    async get(id) {
      return (await load()).get(id);
    },
    async between(a, b) {
      return (await this.list()).filter((x) => {
        const cities = x.agreement.body.parties.map((p) => p.city);
        return full(x) && cities.includes(a) && cities.includes(b);
      });
    },
    propose(p) {
      return write(async () => {
        const other = c.centres().find((x) => x.nodeId === p.with);
        if (!other || other.nodeId === c.nodeId || other.city === c.city)
          throw new AgreementInvalidError(`${p.with} is not a centre of another city on the roster`, 'UNKNOWN_PARTY');
        const draft: AgreementDraft = {
          self: { node: c.nodeId, city: c.city },
          other: { node: other.nodeId, city: other.city },
          ...(p.recognise ? { recognise: p.recognise } : {}),
          ...(p.freshnessDays !== undefined ? { freshnessDays: p.freshnessDays } : {}),
          ...(p.days !== undefined ? { days: p.days } : {}),
          now: c.now(),
        };
        const body: AgreementBody = draftAgreement(draft, (city) => schemeForCity(city));
        const signed = signAgreement({ body }, c.nodeId, c.signer);
        // Checked as any peer will check it: a malformed rule is refused before anything is kept.
        const { agreement, signedBy } = verifyAgreement(signed, c.centres(), 'any');
        return keep(stored(agreement, signedBy));
      });
    },
    sign(id) {
      return write(async () => {
        const held = (await load()).get(id);
        if (!held) throw new NotFoundError(`no agreement ${id} is held here`);
        if (!held.agreement.body.parties.some((p) => p.node === c.nodeId))
          throw new AgreementInvalidError('this centre is not a party to the agreement', 'NOT_A_PARTY');
        if (held.signedBy.includes(c.nodeId))
          throw new AgreementInvalidError('this centre has already signed the agreement', 'ALREADY_SIGNED');
        const signed = signAgreement(held.agreement, c.nodeId, c.signer);
        const { agreement, signedBy } = verifyAgreement(signed, c.centres(), 'both');
        return keep(stored(agreement, signedBy));
      });
    },
    receiveProposal(from, input) {
      return write(async () => {
        const { agreement, signedBy } = verifyAgreement(input, c.centres(), 'any');
        if (!signedBy.includes(from))
          throw new AgreementInvalidError(`the proposal is not signed by ${from}, who sent it`, 'BAD_SIGNATURE');
        if (!agreement.body.parties.some((p) => p.node === c.nodeId))
          throw new AgreementInvalidError('this centre is not a party to the proposal', 'NOT_A_PARTY');
        const id = agreementId(agreement.body);
        const held = (await load()).get(id);
        if (held && held.signedBy.length >= signedBy.length) return held;
        return keep(stored(agreement, signedBy));
      });
    },
    receive(input) {
      return write(async () => {
        const { agreement, signedBy } = verifyAgreement(input, c.centres(), 'both');
        const held = (await load()).get(agreementId(agreement.body));
        if (held && full(held)) return held;
        return keep(stored(agreement, signedBy));
      });
    },
    status(a, now) {
      if (!full(a)) return 'PROPOSED';
      if (inForceAt(a.agreement.body, now)) return 'IN_FORCE';
      return now < Date.parse(a.agreement.body.validFrom) ? 'NOT_YET' : 'EXPIRED';
    },
  };
}
