/**
 * Objections (信用异议, DESIGN §9): an enterprise disputes a fact about itself at the node where it
 * signed in; the objection goes to the node that determined the fact ("who determines, who
 * repairs"), which marks the fact `DISPUTED` at once and sends the change to every node holding a
 * copy; its staff accept (withdraw or correct the fact) or reject with reasons within the deadline
 * (20 working days by default), and the decision reaches the node that received the objection, so
 * the enterprise sees it there. Every step is an `OBJECTION` entry of the node that took it, logged
 * before anything changes; refusals change nothing and are logged too.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AccessLogPort } from '../accesslog/port.ts';
import type { Principal } from '../authz/principals.ts';
import { FACT_SECTION } from '../model/index.ts';
import type { Outbox } from '../storage/outbox.ts';
import { correctedFields } from './correction.ts';
import {
  AlreadyDecidedError,
  AlreadyDisputedError,
  FactNotActiveError,
  ForbiddenError,
  InvalidInputError,
  NodeUnavailableError,
  NotFoundError,
  WrongNodeError,
} from './errors.ts';
import type { FactChangeService, FactUpdate } from './fact-changes.ts';
import type { ObjectionPeers } from './ports.ts';
import { OBJECTION_PURPOSE, type Propagation } from './propagation.ts';
import type { RepairPolicy } from './repair-policy.ts';
import type { ObjectionFiling, ObjectionRecord, ObjectionStore } from './store.ts';
import { addWorkingDays, chinaDate, type WorkingDayRule, weekdays, workingDaysBetween } from './working-days.ts';

/** An objection as the API shows it. */
export interface ObjectionView extends ObjectionRecord {
  /** Working days left until the deadline (negative: overdue), while pending. */
  workingDaysLeft?: number;
  overdue: boolean;
  dueSoon: boolean;
}

/** A decision on an objection. */
export interface ObjectionDecisionInput {
  id: string;
  outcome: 'ACCEPT' | 'REJECT';
  /** For an accepted objection: withdraw the fact, or correct it (`correction`). */
  resolution?: 'WITHDRAW' | 'CORRECT';
  /** Corrected fields: severity, decisionDate, publicFrom, publicUntil, legalDocumentRef, payload (merged). */
  correction?: Record<string, unknown>;
  reasons: string;
  correlationId: string;
}

/** What the objection service needs. */
export interface ObjectionServiceComponents {
  facts: FactChangeService;
  store: ObjectionStore;
  propagation: Propagation;
  outbox: Outbox<unknown>;
  log: AccessLogPort;
  nodeId: string;
  peers: () => ObjectionPeers | undefined;
  policy: RepairPolicy;
  now: () => number;
  isWorkingDay?: WorkingDayRule;
  logger: Logger;
}

/** The objection service of a node. */
export interface ObjectionService {
  /** API: an enterprise objects to a fact about itself (at any node where it signs in). */
  file(
    p: Principal,
    req: { factId: string; reason: string; evidence?: string[]; correlationId: string },
  ): Promise<ObjectionView>;
  /** API: staff of the determining node decide. */
  decide(p: Principal, req: ObjectionDecisionInput): Promise<ObjectionView>;
  /** API: the enterprise's objections held here (originals and copies). */
  mine(p: Principal): Promise<ObjectionView[]>;
  /** API: objections this node decides (staff), optionally only pending, overdue or due soon. */
  list(p: Principal, q?: { status?: string; overdue?: boolean; dueSoon?: boolean }): Promise<ObjectionView[]>;
  /** Marks reminders of objections close to their deadline; returns the counts of pending ones. */
  sweep(): Promise<{ pending: number; dueSoon: number; overdue: number; reminded: number }>;
  /** Federation: an objection received elsewhere, for the fact this node determined. */
  receiveFiling(peer: string, filing: ObjectionFiling): Promise<ObjectionRecord>;
  /** Federation: the determining node's decision, for the copy kept where the objection was received. */
  receiveDecision(peer: string, record: ObjectionRecord): Promise<void>;
}

const ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
const text = (v: unknown, max: number) =>
  typeof v === 'string' && v.trim().length > 0 && v.trim().length <= max ? v.trim() : undefined;

/** Creates the objection service. */
export function createObjectionService(c: ObjectionServiceComponents): ObjectionService {
  const rule = c.isWorkingDay ?? weekdays;
  const { deadlineWorkingDays, reminderWorkingDays } = c.policy.objections;
  const log = c.logger.child({ component: 'objections' });
  const today = () => chinaDate(c.now());

  const view = (r: ObjectionRecord): ObjectionView => {
    if (r.status !== 'PENDING') return { ...r, overdue: false, dueSoon: false };
    const left = workingDaysBetween(today(), r.deadline, rule);
    return { ...r, workingDaysLeft: left, overdue: left < 0, dueSoon: left >= 0 && left <= reminderWorkingDays };
  };
  const entry = (
    actor: { principal: string; role: string },
    decision: 'ALLOW' | 'DENY',
    reason: string,
    correlationId: string,
    subject?: string,
    section?: string,
  ) =>
    c.log.append({
      time: new Date(c.now()).toISOString(),
      actor: { node: c.nodeId, ...actor },
      action: 'OBJECTION',
      decision,
      reason,
      purpose: OBJECTION_PURPOSE,
      scopes: section ? [section] : [],
      ...(subject ? { subject } : {}),
      correlationId: correlationId.slice(0, 64),
    });
  const who = (p: Principal) => ({ principal: `${p.role}:${p.sub}`, role: p.role });
  /** Logs a refusal and throws it. */
  const refuse = async (
    actor: { principal: string; role: string },
    err: Error & { code: string },
    correlationId: string,
    subject?: string,
  ): Promise<never> => {
    await entry(actor, 'DENY', err.code, correlationId, subject);
    throw err;
  };

  const service: ObjectionService = {
    async file(p, req) {
      const cid = req.correlationId;
      if (p.role !== 'enterprise' || !p.uscc)
        await refuse(who(p), new ForbiddenError('an objection is filed by the enterprise itself'), cid);
      const uscc = p.uscc!;
      const reason = text(req.reason, 1000);
      const evidence = Array.isArray(req.evidence) ? req.evidence.map((e) => text(e, 200)) : [];
      if (!ID_RE.test(typeof req.factId === 'string' ? req.factId : ''))
        await refuse(who(p), new InvalidInputError('factId is not a fact id'), cid, uscc);
      if (!reason) await refuse(who(p), new InvalidInputError('reason must be 1–1000 characters'), cid, uscc);
      if (evidence.length > c.policy.maxEvidence || evidence.some((e) => e === undefined))
        await refuse(
          who(p),
          new InvalidInputError(`evidence: at most ${c.policy.maxEvidence} references of 1–200 characters`),
          cid,
          uscc,
        );
      const found = await c.propagation.locate(req.factId, uscc);
      if (!found.originNode) {
        if (found.unavailable.length > 0)
          throw new NodeUnavailableError(`the fact could not be found: ${found.unavailable.join(', ')} did not answer`);
        await refuse(who(p), new NotFoundError('no fact with this id about your enterprise'), cid, uscc);
      }
      const filing: ObjectionFiling = {
        id: randomUUID(),
        factId: req.factId,
        uscc,
        principal: p.sub,
        reason: reason!,
        evidence: evidence as string[],
        receivedBy: c.nodeId,
        receivedAt: new Date(c.now()).toISOString(),
        correlationId: cid,
      };
      if (found.originNode === c.nodeId) return view(await service.receiveFiling(c.nodeId, filing));
      const peers = c.peers();
      if (!peers) throw new NodeUnavailableError('this node is not in a federation');
      // The determining node decides and logs; its refusals come back with their codes, logged here too.
      const record = await peers.file(found.originNode!, filing).catch(async (err: Error & { code?: string }) => {
        await entry(who(p), 'DENY', err.code ?? 'INTERNAL', cid, uscc);
        throw err;
      });
      const copy: ObjectionRecord = { ...record, copy: true };
      await entry(who(p), 'ALLOW', `FILED_AT:${record.originNode}`, cid, uscc, FACT_SECTION[record.subtype]);
      await c.store.commit(c.store.putObjection(copy));
      return view(copy);
    },

    async receiveFiling(peer, filing) {
      const actor = {
        principal: `${peer === c.nodeId ? 'enterprise' : `${peer}/enterprise`}:${filing.principal}`,
        role: 'enterprise',
      };
      const fact = await c.facts.get(filing.factId);
      if (!fact || fact.uscc !== filing.uscc)
        return refuse(
          actor,
          new NotFoundError('no fact with this id about your enterprise'),
          filing.correlationId,
          filing.uscc,
        );
      if (fact.originNode !== c.nodeId)
        return refuse(
          actor,
          new WrongNodeError(`the fact was determined by ${fact.originNode}`, fact.originNode),
          filing.correlationId,
          filing.uscc,
        );
      if (fact.subtype === 'EVALUATION')
        return refuse(
          actor,
          new InvalidInputError('a grade is not disputed as a fact: ask for the evaluation to be reviewed'),
          filing.correlationId,
          filing.uscc,
        );
      if (fact.status === 'DISPUTED')
        return refuse(
          actor,
          new AlreadyDisputedError('the fact is already under objection'),
          filing.correlationId,
          filing.uscc,
        );
      if (fact.status !== 'ACTIVE')
        return refuse(
          actor,
          new FactNotActiveError(`the fact is ${fact.status.toLowerCase()}`),
          filing.correlationId,
          filing.uscc,
        );
      const filedAt = new Date(c.now()).toISOString();
      const record: ObjectionRecord = {
        ...filing,
        subtype: fact.subtype,
        originNode: c.nodeId,
        status: 'PENDING',
        filedAt,
        deadline: addWorkingDays(today(), deadlineWorkingDays, rule),
      };
      await entry(actor, 'ALLOW', 'FILED', filing.correlationId, filing.uscc, FACT_SECTION[fact.subtype]);
      await c.facts.change(
        fact.id,
        { status: 'DISPUTED', expect: ['ACTIVE'] },
        { by: actor.principal, reason: 'OBJECTION_FILED', ref: record.id },
        (next, change) => [
          ...c.store.putObjection(record),
          ...c.propagation.broadcast(next, change, filing.correlationId),
        ],
      );
      c.outbox.kick();
      return record;
    },

    async decide(p, req) {
      const cid = req.correlationId;
      if (p.role !== 'centre-staff')
        await refuse(who(p), new ForbiddenError('objections are decided by the staff of the determining centre'), cid);
      const record = typeof req.id === 'string' && req.id.length <= 64 ? await c.store.objection(req.id) : undefined;
      if (!record) return refuse(who(p), new NotFoundError('no objection with this id is held here'), cid);
      if (record.copy)
        await refuse(
          who(p),
          new WrongNodeError(`decided by ${record.originNode}, which determined the fact`, record.originNode),
          cid,
          record.uscc,
        );
      if (record.status !== 'PENDING')
        await refuse(who(p), new AlreadyDecidedError('the objection was already decided'), cid, record.uscc);
      const reasons = text(req.reasons, 2000);
      const bad = (why: string) => refuse(who(p), new InvalidInputError(why), cid, record.uscc);
      if (!reasons) await bad('reasons must be 1–2000 characters');
      if (req.outcome !== 'ACCEPT' && req.outcome !== 'REJECT') await bad('outcome must be ACCEPT or REJECT');
      if (req.outcome === 'ACCEPT' && req.resolution !== 'WITHDRAW' && req.resolution !== 'CORRECT')
        await bad('an accepted objection withdraws (WITHDRAW) or corrects (CORRECT) the fact');
      if (req.outcome === 'REJECT' && (req.resolution !== undefined || req.correction !== undefined))
        await bad('a rejected objection changes nothing in the fact');
      let fields: FactUpdate['fields'];
      if (req.resolution === 'CORRECT') {
        const fact = await c.facts.get(record.factId);
        if (!fact) return refuse(who(p), new NotFoundError('the fact is no longer held here'), cid, record.uscc);
        try {
          fields = correctedFields(fact, req.correction, c.nodeId);
        } catch (err) {
          return refuse(who(p), err as InvalidInputError, cid, record.uscc);
        }
      } else if (req.correction !== undefined) await bad('a correction goes with the resolution CORRECT');
      const outcome = req.outcome === 'ACCEPT' ? 'ACCEPTED' : 'REJECTED';
      const resolution =
        req.resolution === 'WITHDRAW' ? 'WITHDRAWN' : req.resolution === 'CORRECT' ? 'CORRECTED' : undefined;
      await entry(who(p), 'ALLOW', `DECIDED:${resolution ?? outcome}`, cid, record.uscc, FACT_SECTION[record.subtype]);
      const at = new Date(c.now()).toISOString();
      let updated: ObjectionRecord | undefined;
      await c.facts.change(
        record.factId,
        { status: resolution === 'WITHDRAWN' ? 'CORRECTED' : 'ACTIVE', fields, expect: ['DISPUTED'] },
        {
          by: `${p.role}:${p.sub}`,
          reason:
            resolution === 'WITHDRAWN'
              ? 'OBJECTION_WITHDRAWN'
              : resolution
                ? 'OBJECTION_CORRECTED'
                : 'OBJECTION_REJECTED',
          ref: record.id,
        },
        (next, change) => {
          updated = {
            ...record,
            status: outcome,
            decision: {
              outcome,
              ...(resolution ? { resolution } : {}),
              reasons: reasons!,
              by: `${p.role}:${p.sub}`,
              at,
              ...(change.fields ? { fields: change.fields } : {}),
            },
          };
          return [
            ...c.store.putObjection(updated),
            ...c.propagation.broadcast(next, change, cid),
            ...(record.receivedBy !== c.nodeId
              ? [c.outbox.op(record.receivedBy, { op: 'objection', record: updated })]
              : []),
          ];
        },
      );
      c.outbox.kick();
      return view(updated!);
    },

    async receiveDecision(peer, record) {
      const copy = await c.store.objection(record.id);
      if (!copy?.copy || copy.originNode !== peer || record.originNode !== peer || record.uscc !== copy.uscc)
        throw new NotFoundError('no copy of this objection from that node is held here');
      if (copy.status !== 'PENDING') return;
      await entry(
        { principal: `node:${peer}`, role: 'node' },
        'ALLOW',
        `DECIDED_AT:${peer}`,
        record.correlationId,
        copy.uscc,
      );
      await c.store.commit(c.store.putObjection({ ...copy, status: record.status, decision: record.decision }));
    },

    async mine(p) {
      if (p.role !== 'enterprise' || !p.uscc) throw new ForbiddenError('an enterprise sees its own objections');
      const { objections } = await c.store.ofEnterprise(p.uscc);
      return objections.map(view).sort((a, b) => b.filedAt.localeCompare(a.filedAt));
    },

    async list(p, q = {}) {
      if (p.role !== 'centre-staff' && p.role !== 'auditor')
        throw new ForbiddenError('objections are listed to centre staff and auditors');
      if (q.status !== undefined && !['PENDING', 'ACCEPTED', 'REJECTED'].includes(q.status))
        throw new InvalidInputError('status must be PENDING, ACCEPTED or REJECTED');
      const out: ObjectionView[] = [];
      const source =
        q.status === 'PENDING' || q.overdue || q.dueSoon ? await c.store.pendingObjections() : c.store.decidedHere();
      for await (const r of source) {
        const v = view(r);
        if ((q.status && v.status !== q.status) || (q.overdue && !v.overdue) || (q.dueSoon && !v.dueSoon)) continue;
        out.push(v);
        if (out.length >= 1000) break;
      }
      return out.sort((a, b) => a.deadline.localeCompare(b.deadline));
    },

    async sweep() {
      const counts = { pending: 0, dueSoon: 0, overdue: 0, reminded: 0 };
      for (const r of await c.store.pendingObjections()) {
        const v = view(r);
        counts.pending++;
        if (v.overdue) counts.overdue++;
        if (v.dueSoon) counts.dueSoon++;
        if ((v.dueSoon || v.overdue) && !r.remindedAt) {
          // The reminder: a warning for the centre's operators (ids and dates only) and a mark on the objection.
          log.warn(
            { objection: r.id, deadline: r.deadline, workingDaysLeft: v.workingDaysLeft },
            'objection decision due',
          );
          await c.store.commit(c.store.putObjection({ ...r, remindedAt: new Date(c.now()).toISOString() }));
          counts.reminded++;
        }
      }
      return counts;
    },
  };
  return service;
}
