/**
 * Consent for joint queries (DESIGN §5, §7): every node that takes part in a joint query (the
 * requesting bank, each contributor) decides, for every enterprise of the batch, whether a live
 * consent of that enterprise covers the query's scope (`joint:exposure`, `joint:score`,
 * `joint:listCheck`) for the requesting bank and purpose, and logs each decision, allowed or
 * refused, in its own access log before it uses or contributes anything.
 */
import type { AccessLogPort } from '../accesslog/port.ts';
import { validateUscc } from '../model/index.ts';
import type { ConsentService } from './consents.ts';
import type { Principal } from './principals.ts';
import { type JointQuery, purposeById } from './purposes.ts';

/** Decisions between two yields to the event loop (cached consents decide without I/O). */
const SLICE = 256;

/** One enterprise of a joint batch, with the consent the requester relies on (if it named one). */
export interface JointSubject {
  uscc: string;
  consentId?: string;
  /** Home of the consent, where a node that has not heard of it fetches it. */
  consentHome?: string;
}

/** The outcome for each enterprise of a batch, in batch order. */
export interface JointDecisions {
  /** Indexes of the enterprises a live consent covers. */
  allowed: number[];
  /** Refused indexes, with the reason code. */
  refused: Array<{ index: number; reason: string }>;
  /** Consent ids that allowed each allowed index. */
  consents: Map<number, string>;
}

/** What a joint-query decision needs. */
export interface JointDecisionComponents {
  consents: ConsentService;
  log: AccessLogPort;
  nodeId: string;
}

/**
 * Decides consent for every enterprise of a joint batch and logs every decision (action
 * `JOINT_QUERY`, the enterprise as a commitment, the correlation id of the query).
 * @param requester the bank officer the query is for (on a contributor: as named by the signed query)
 */
export async function decideJoint(
  c: JointDecisionComponents,
  requester: Principal,
  scope: JointQuery,
  purpose: string,
  batch: readonly JointSubject[],
  correlationId: string,
): Promise<JointDecisions> {
  const out: JointDecisions = { allowed: [], refused: [], consents: new Map() };
  const known = purposeById(purpose) !== undefined;
  const codes = batch.map((s) => validateUscc(s.uscc));
  if (known && requester.bank)
    await c.consents.prefetch(
      requester.bank,
      codes.flatMap((code, i) => (code.valid && !batch[i].consentId ? [code.code] : [])),
      batch.flatMap((s) => (s.consentId ? [s.consentId] : [])),
    );
  const appends: Array<Promise<unknown>> = [];
  for (const [index, s] of batch.entries()) {
    if (index % SLICE === SLICE - 1) await new Promise((r) => setImmediate(r));
    const code = codes[index];
    let reason: string | undefined;
    let consentId: string | undefined;
    if (!code.valid) reason = 'BAD_USCC';
    else if (!known) reason = 'UNKNOWN_PURPOSE';
    else {
      if (s.consentId) await c.consents.resolve(s.consentId, s.consentHome).catch(() => undefined);
      const d = await c.consents.decide({
        principal: requester,
        uscc: code.code,
        scopes: [scope],
        purpose,
        consentId: s.consentId,
      });
      if (d.allowed) consentId = d.consent.id;
      else reason = d.reason;
    }
    if (reason) out.refused.push({ index, reason });
    else {
      out.allowed.push(index);
      out.consents.set(index, consentId!);
    }
    const event = {
      time: new Date().toISOString(),
      actor: {
        node: c.nodeId,
        principal: `${requester.bank}/${requester.sub}`,
        role: requester.role,
      },
      action: 'JOINT_QUERY' as const,
      decision: reason ? ('DENY' as const) : ('ALLOW' as const),
      ...(reason ? { reason } : {}),
      purpose: purpose.slice(0, 64),
      ...(consentId ? { consentId } : {}),
      scopes: [scope],
      ...(code.valid ? { subject: code.code } : {}),
      correlationId,
    };
    // Group-committed with the decisions that follow, after any single entry waiting (a read).
    const appended = c.log.append(event, { bulk: true });
    appended.catch(() => undefined); // awaited below, with the others
    appends.push(appended);
  }
  // Every decision is durable before anything is used.
  await Promise.all(appends);
  return out;
}
