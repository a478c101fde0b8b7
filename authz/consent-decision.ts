/**
 * The access decision (DESIGN §5): the one place that says whether a principal may see which
 * sections of which enterprise, for what. A use is counted under the consent's lock in the shared
 * {@link ConsentStore}, atomically with the decision, so uses never race a transition.
 */
import type { ConsentStore } from './consent-store.ts';
import type { ConsentRecord } from './lifecycle.ts';
import type { Principal } from './principals.ts';
import type { Scope } from './purposes.ts';

/** Outcome of a decision. */
export type Decision =
  | { allowed: true; consent: ConsentRecord }
  | { allowed: false; reason: string; missing: string[]; consentId?: string };

/** A request to see sections of an enterprise. */
export interface AccessRequest {
  principal: Principal;
  uscc: string;
  scopes: readonly Scope[];
  purpose: string;
  consentId?: string;
  /** Count this access against `maxUses` (false for checks that release no data). */
  consume?: boolean;
}

/** What the decision needs. */
export interface ConsentDecisionComponents {
  store: ConsentStore;
  /** Records the expiry of a consent found past its end (at its home; elsewhere a no-op). */
  markExpired(record: ConsentRecord): Promise<void>;
}

/** Decides whether a request is covered by a live consent, and counts its use. */
export async function decide(c: ConsentDecisionComponents, req: AccessRequest): Promise<Decision> {
  const { store } = c;
  const p = req.principal;
  const scopes = [...new Set(req.scopes)];
  if (p.role !== 'bank-officer' || !p.bank) return { allowed: false, reason: 'ROLE', missing: scopes };
  let candidates: ConsentRecord[];
  if (req.consentId) {
    const r = await store.get(req.consentId);
    candidates = r && r.body.enterprise === req.uscc ? [r] : [];
    if (r && r.body.grantee.node !== p.bank)
      return { allowed: false, reason: 'OTHER_GRANTEE', missing: scopes, consentId: r.id };
  } else candidates = await store.forGrantee(p.bank, req.uscc);
  const matching = candidates
    .map((r) => store.withExpiry(r))
    .filter(
      (r) =>
        r.body.grantee.node === p.bank &&
        r.body.purpose === req.purpose &&
        (!r.body.grantee.officer || r.body.grantee.officer === p.sub),
    );
  const now = store.now();
  const live = matching.filter(
    (r) =>
      r.status === 'ACTIVE' &&
      Date.parse(r.body.notBefore) <= now &&
      (r.body.maxUses === undefined || r.uses < r.body.maxUses),
  );
  const covering = live.find((r) => scopes.every((s) => r.body.scopes.includes(s)));
  if (!covering) {
    const granted = new Set(live.flatMap((r) => r.body.scopes));
    const missing = scopes.filter((s) => !granted.has(s));
    // The reason reflects the most recently issued consent the bank holds for this purpose.
    const latest = [...matching]
      .sort((a, b) => b.body.issuedAt.localeCompare(a.body.issuedAt))
      .find((r) => r.status !== 'REQUESTED');
    const reason = live.length > 0 ? 'SCOPE' : (latest?.status ?? (matching.length > 0 ? 'NOT_ACTIVE' : 'NO_CONSENT'));
    for (const r of matching) if (r.status === 'EXPIRED') await c.markExpired(r);
    return {
      allowed: false,
      reason: reason === 'ACTIVE' ? 'USED_UP' : reason,
      missing: missing.length > 0 ? missing : scopes,
    };
  }
  // Uses are counted (atomically with the decision) only where the consent caps them.
  if (req.consume === false || covering.body.maxUses === undefined) return { allowed: true, consent: covering };
  return store.locked(covering.id, async () => {
    const fresh = store.withExpiry(((await store.get(covering.id)) as ConsentRecord) ?? covering);
    if (fresh.status !== 'ACTIVE' || (fresh.body.maxUses !== undefined && fresh.uses >= fresh.body.maxUses))
      return {
        allowed: false as const,
        reason: fresh.status === 'ACTIVE' ? 'USED_UP' : fresh.status,
        missing: scopes,
      };
    const next = { ...fresh, uses: fresh.uses + 1 };
    await store.saveUses(next);
    return { allowed: true as const, consent: next };
  });
}
