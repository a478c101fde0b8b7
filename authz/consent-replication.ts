/**
 * Copies of consents kept by another node (DESIGN §5): a node adopts the copies its home
 * publishes, verified against the enterprise's binding and the lifecycle rules
 * (`lifecycle.ts`: only newer copies that extend the history held), and fetches a consent from
 * its home when asked under one whose propagation has not arrived yet. Adoption runs under the
 * consent's lock in the shared {@link ConsentStore}, so it never races a use being counted.
 */
import type { Logger } from 'pino';
import type { BindingStore } from './bindings.ts';
import type { ConsentRouting, ConsentStore } from './consent-store.ts';
import { consentId, consentSignatureValid, parseConsentBody } from './documents.ts';
import { ConsentInvalidError } from './errors.ts';
import { CONSENT_STATUSES, type ConsentRecord, historyProblem, mergeOutcome } from './lifecycle.ts';

/** What replication needs. */
export interface ConsentReplicationComponents {
  store: ConsentStore;
  bindings: Pick<BindingStore, 'enterpriseKey' | 'import'>;
  routing?: () => ConsentRouting | undefined;
  logger: Logger;
}

/**
 * Adopts a copy of a consent sent by node `from`, which must be its home. Returns whether it
 * changed anything.
 * @throws ConsentInvalidError when the copy is not acceptable
 */
export async function importRecord(c: ConsentReplicationComponents, record: ConsentRecord, from: string) {
  const { store } = c;
  const body = parseConsentBody(record?.body, Number.MAX_SAFE_INTEGER);
  const id = consentId(body);
  if (body.home !== from) throw new ConsentInvalidError('only the home node of a consent may publish it');
  if (body.home === store.nodeId) throw new ConsentInvalidError('this node is the home of that consent');
  if (id !== record.id || !CONSENT_STATUSES.includes(record.status))
    throw new ConsentInvalidError('consent record does not match its body');
  const problem = historyProblem(record);
  if (problem) throw new ConsentInvalidError(`consent record has an impossible history: ${problem}`);
  const everActive = record.history.some((t) => t.to === 'ACTIVE');
  if (everActive && record.signature === undefined)
    throw new ConsentInvalidError('a consent that was ever active needs the enterprise signature');
  if (
    record.signature !== undefined &&
    !consentSignatureValid({ body, signature: record.signature }, await c.bindings.enterpriseKey(body.enterprise))
  )
    throw new ConsentInvalidError('consent signature does not verify with the enterprise key');
  return store.locked(id, async () => {
    const mine = await store.get(id);
    const outcome = mergeOutcome(mine, record);
    if (!outcome.apply) {
      if (outcome.why === 'CONFLICT' || outcome.why === 'HISTORY_REWRITTEN')
        c.logger.warn({ consent: id, home: from, why: outcome.why }, 'home sent a contradicting consent record');
      return false;
    }
    const clean: ConsentRecord = {
      id,
      body,
      ...(record.signature !== undefined ? { signature: record.signature } : {}),
      status: record.status,
      history: record.history.map((t) => ({
        to: t.to,
        at: t.at,
        by: { sub: t.by.sub, role: t.by.role, node: t.by.node },
        ...(t.reason !== undefined ? { reason: t.reason } : {}),
      })),
      uses: mine?.uses ?? 0,
      seq: record.seq,
    };
    await store.save(clean, clean.history[clean.history.length - 1], { notify: false });
    return true;
  });
}

/**
 * The consent, fetched from its home when this node has never heard of it (adopting the home's
 * binding for the enterprise too). `home` is where to ask.
 */
export async function resolve(c: ConsentReplicationComponents, id: string, home?: string) {
  const { store } = c;
  const known = await store.get(id);
  const routing = c.routing?.();
  if (known || !home || !routing || home === store.nodeId || !routing.mayBeHome(home)) return known;
  const fetched = await routing.fetch(id, home);
  if (!fetched) return undefined;
  if (fetched.binding) await c.bindings.import(fetched.binding).catch(() => false);
  await importRecord(c, fetched.record, home);
  return store.get(id);
}
