/**
 * Consent propagation (`/credit/consent/1.0.0`): every change to a consent on its home node
 * (grant, approval, pause, resumption, revocation, expiry) is pushed to every other member, with
 * the enterprise key binding, and retried with back-off until delivered or given up. Receivers
 * accept a record only from its home node and only when it is newer than theirs, so a revocation
 * reaches every node within seconds and cannot be undone by anyone else.
 */
import type { Logger } from 'pino';
import type { ConsentRecord, ConsentService, KeyBinding } from '../authz/index.ts';
import { type FederationHost, PeerError } from './host.ts';

/** Protocol id of consent propagation. */
export const CONSENT_PROTOCOL = '/credit/consent/1.0.0';

/** What consent propagation needs. */
export interface ConsentSyncComponents {
  host: FederationHost;
  consents: ConsentService;
  nodeId: string;
  logger: Logger;
}

/** Consent propagation. */
export interface ConsentSync {
  register(): Promise<void>;
  /** Resolves when every push queued so far has been delivered or given up. */
  idle(): Promise<void>;
}

/** Creates consent propagation and subscribes to local changes. */
export function createConsentSync(c: ConsentSyncComponents): ConsentSync {
  const log = c.logger.child({ component: 'consent-sync' });
  const pending = new Set<Promise<void>>();

  const push = async (record: ConsentRecord, binding: KeyBinding | undefined, nodeId: string) => {
    for (let attempt = 0; attempt < 6; attempt++) {
      try {
        await c.host.request(nodeId, CONSENT_PROTOCOL, { record, binding }, { timeoutMs: 3000 });
        return;
      } catch (err) {
        if (err instanceof PeerError && err.code !== 'BUSY') {
          log.warn({ peer: nodeId, code: err.code }, 'peer refused a consent record');
          return;
        }
        await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
      }
    }
    log.warn({ peer: nodeId }, 'consent record not delivered');
  };

  c.consents.onChange((record) => {
    if (record.home !== c.nodeId) return;
    const members = (c.host.roster()?.roster.members ?? []).filter((m) => m.nodeId !== c.nodeId);
    const job = (async () => {
      const binding = await c.consents.bindingFor(record.body.enterprise);
      await Promise.all(members.map((m) => push(record, binding, m.nodeId)));
    })().finally(() => pending.delete(job));
    pending.add(job);
  });

  return {
    register: () =>
      c.host.register({
        id: CONSENT_PROTOCOL,
        roles: ['credit-centre', 'city-peer', 'easy-loan', 'bank', 'source'],
        maxRequestBytes: 128 * 1024,
        timeoutMs: 5000,
        maxConcurrentPerPeer: 8,
        handle: async (raw, ctx) => {
          const { record, binding } = (raw ?? {}) as { record?: ConsentRecord; binding?: KeyBinding };
          if (!record || typeof record !== 'object') throw new PeerError('BAD_REQUEST', 'missing consent record');
          if (record.home !== ctx.peer.nodeId)
            throw new PeerError('FORBIDDEN', 'only the home node of a consent may publish it');
          if (binding && !(await c.consents.bindingFor(record.body?.enterprise)))
            await c.consents.importBinding(binding);
          try {
            return { applied: await c.consents.importRecord(record) };
          } catch (err) {
            throw new PeerError('BAD_REQUEST', (err as Error).message);
          }
        },
      }),
    async idle() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
