/**
 * Credit repair (信用修复, DESIGN §9, credit.md §4.1): once the minimum publicity period of a fact's
 * tier has passed, the enterprise applies at the node that determined the fact ("who determines,
 * who repairs"), with proof that its obligations are met and, where the policy asks, a credit
 * commitment; that node's staff approve or refuse with reasons. An approved repair makes the fact
 * `REPAIRED` there and, through the outbox, on every node holding a copy: it leaves profiles,
 * grades (re-graded by the nodes' listeners) and checks. The history stays: the application, the
 * fact's change history and the `REPAIR` entries of every node that took a step.
 */
import { randomUUID } from 'node:crypto';
import type { AccessLogPort } from '../accesslog/port.ts';
import type { Principal } from '../authz/principals.ts';
import { FACT_SECTION } from '../model/index.ts';
import type { Outbox } from '../storage/outbox.ts';
import {
  AlreadyDecidedError,
  FactNotActiveError,
  ForbiddenError,
  InvalidInputError,
  NodeUnavailableError,
  NotFoundError,
  NotRepairableError,
  ObjectionPendingError,
  RepairPendingError,
  RepairTooEarlyError,
  WrongNodeError,
} from './errors.ts';
import type { FactChangeService } from './fact-changes.ts';
import { type Propagation, REPAIR_PURPOSE } from './propagation.ts';
import { type RepairPolicy, repairRule } from './repair-policy.ts';
import type { ObjectionStore, RepairRecord } from './store.ts';
import { chinaDate } from './working-days.ts';

/** What the repair service needs. */
export interface RepairServiceComponents {
  facts: FactChangeService;
  store: ObjectionStore;
  propagation: Propagation;
  outbox: Outbox<unknown>;
  log: AccessLogPort;
  nodeId: string;
  policy: RepairPolicy;
  now: () => number;
}

/** The repair service of a node. */
export interface RepairService {
  /** API: the enterprise applies at the node that determined the fact. */
  apply(
    p: Principal,
    req: { factId: string; evidence: string[]; commitment: boolean; correlationId: string },
  ): Promise<RepairRecord>;
  /** API: that node's staff approve or refuse, with reasons. */
  decide(
    p: Principal,
    req: { id: string; approve: boolean; reasons: string; correlationId: string },
  ): Promise<RepairRecord>;
  /** API: the enterprise's applications made here. */
  mine(p: Principal): Promise<RepairRecord[]>;
  /** API: applications this node decides (staff, auditors), optionally of one status. */
  list(p: Principal, q?: { status?: string }): Promise<RepairRecord[]>;
}

const ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
const text = (v: unknown, max: number) =>
  typeof v === 'string' && v.trim().length > 0 && v.trim().length <= max ? v.trim() : undefined;

/** Creates the repair service. */
export function createRepairService(c: RepairServiceComponents): RepairService {
  const entry = (
    p: Principal,
    decision: 'ALLOW' | 'DENY',
    reason: string,
    cid: string,
    subject?: string,
    section?: string,
  ) =>
    c.log.append({
      time: new Date(c.now()).toISOString(),
      actor: { node: c.nodeId, principal: `${p.role}:${p.sub}`, role: p.role },
      action: 'REPAIR',
      decision,
      reason,
      purpose: REPAIR_PURPOSE,
      scopes: section ? [section] : [],
      ...(subject ? { subject } : {}),
      correlationId: cid.slice(0, 64),
    });
  const refuse = async (p: Principal, err: Error & { code: string }, cid: string, subject?: string): Promise<never> => {
    await entry(p, 'DENY', err.code, cid, subject);
    throw err;
  };

  return {
    async apply(p, req) {
      const cid = req.correlationId;
      if (p.role !== 'enterprise' || !p.uscc)
        await refuse(p, new ForbiddenError('a repair is applied for by the enterprise itself'), cid);
      const uscc = p.uscc!;
      const evidence = Array.isArray(req.evidence) ? req.evidence.map((e) => text(e, 200)) : [];
      if (!ID_RE.test(typeof req.factId === 'string' ? req.factId : ''))
        await refuse(p, new InvalidInputError('factId is not a fact id'), cid, uscc);
      if (evidence.length === 0 || evidence.length > c.policy.maxEvidence || evidence.some((e) => e === undefined))
        await refuse(
          p,
          new InvalidInputError(
            `proof that the obligations are met: 1 to ${c.policy.maxEvidence} references of 1–200 characters`,
          ),
          cid,
          uscc,
        );
      if (typeof req.commitment !== 'boolean')
        await refuse(p, new InvalidInputError('commitment must be true or false'), cid, uscc);
      const found = await c.propagation.locate(req.factId, uscc);
      const fact = found.fact;
      if (!fact) {
        if (found.originNode)
          await refuse(
            p,
            new WrongNodeError(`apply at ${found.originNode}, which determined the fact`, found.originNode),
            cid,
            uscc,
          );
        if (found.unavailable.length > 0)
          throw new NodeUnavailableError(`the fact could not be found: ${found.unavailable.join(', ')} did not answer`);
        await refuse(p, new NotFoundError('no fact with this id about your enterprise'), cid, uscc);
      }
      if (fact!.originNode !== c.nodeId)
        await refuse(
          p,
          new WrongNodeError(`apply at ${fact!.originNode}, which determined the fact`, fact!.originNode),
          cid,
          uscc,
        );
      const rule = repairRule(c.policy, fact!);
      if (!rule)
        await refuse(p, new NotRepairableError('this kind of fact is not repaired by a credit centre'), cid, uscc);
      if (fact!.status === 'DISPUTED')
        await refuse(p, new ObjectionPendingError('the fact is under objection: it is decided first'), cid, uscc);
      if (fact!.status !== 'ACTIVE')
        await refuse(p, new FactNotActiveError(`the fact is ${fact!.status.toLowerCase()}`), cid, uscc);
      const today = chinaDate(c.now());
      if (today < rule!.eligibleFrom)
        await refuse(
          p,
          new RepairTooEarlyError(
            `the minimum publicity period of a ${rule!.tier.toLowerCase()} fact (${rule!.minMonths} months) ends on ${rule!.eligibleFrom}`,
            rule!.eligibleFrom,
          ),
          cid,
          uscc,
        );
      if (c.policy.commitmentRequired && req.commitment !== true)
        await refuse(p, new InvalidInputError('a repair needs a credit commitment (commitment: true)'), cid, uscc);
      if (await c.store.pendingRepairOf(fact!.id))
        await refuse(p, new RepairPendingError('an application for this fact is waiting for a decision'), cid, uscc);
      const record: RepairRecord = {
        id: randomUUID(),
        factId: fact!.id,
        uscc,
        subtype: fact!.subtype,
        principal: p.sub,
        evidence: evidence as string[],
        commitment: req.commitment,
        tier: rule!.tier,
        eligibleFrom: rule!.eligibleFrom,
        node: c.nodeId,
        status: 'APPLIED',
        appliedAt: new Date(c.now()).toISOString(),
      };
      await entry(p, 'ALLOW', 'APPLIED', cid, uscc, FACT_SECTION[fact!.subtype]);
      await c.store.commit(c.store.putRepair(record));
      return record;
    },

    async decide(p, req) {
      const cid = req.correlationId;
      if (p.role !== 'centre-staff')
        await refuse(p, new ForbiddenError('repairs are decided by the staff of the determining centre'), cid);
      const record = typeof req.id === 'string' && req.id.length <= 64 ? await c.store.repair(req.id) : undefined;
      if (!record) return refuse(p, new NotFoundError('no repair application with this id is held here'), cid);
      if (record.status !== 'APPLIED')
        await refuse(p, new AlreadyDecidedError('the application was already decided'), cid, record.uscc);
      const reasons = text(req.reasons, 2000);
      if (!reasons) await refuse(p, new InvalidInputError('reasons must be 1–2000 characters'), cid, record.uscc);
      if (typeof req.approve !== 'boolean')
        await refuse(p, new InvalidInputError('approve must be true or false'), cid, record.uscc);
      const decided: RepairRecord = {
        ...record,
        status: req.approve ? 'APPROVED' : 'REFUSED',
        decision: { reasons: reasons!, by: `${p.role}:${p.sub}`, at: new Date(c.now()).toISOString() },
      };
      const section = FACT_SECTION[record.subtype];
      if (!req.approve) {
        await entry(p, 'ALLOW', 'REFUSED', cid, record.uscc, section);
        await c.store.commit(c.store.putRepair(decided));
        return decided;
      }
      const fact = await c.facts.get(record.factId);
      if (!fact) return refuse(p, new NotFoundError('the fact is no longer held here'), cid, record.uscc);
      if (fact.status !== 'ACTIVE')
        await refuse(p, new FactNotActiveError(`the fact is ${fact.status.toLowerCase()} now`), cid, record.uscc);
      await entry(p, 'ALLOW', 'APPROVED', cid, record.uscc, section);
      await c.facts.change(
        record.factId,
        { status: 'REPAIRED', expect: ['ACTIVE'] },
        { by: `${p.role}:${p.sub}`, reason: 'REPAIRED', ref: record.id },
        (next, change) => [...c.store.putRepair(decided), ...c.propagation.broadcast(next, change, cid)],
      );
      c.outbox.kick();
      return decided;
    },

    async mine(p) {
      if (p.role !== 'enterprise' || !p.uscc) throw new ForbiddenError('an enterprise sees its own applications');
      return (await c.store.ofEnterprise(p.uscc)).repairs.sort((a, b) => b.appliedAt.localeCompare(a.appliedAt));
    },

    async list(p, q = {}) {
      if (p.role !== 'centre-staff' && p.role !== 'auditor')
        throw new ForbiddenError('repair applications are listed to centre staff and auditors');
      if (q.status !== undefined && !['APPLIED', 'APPROVED', 'REFUSED'].includes(q.status))
        throw new InvalidInputError('status must be APPLIED, APPROVED or REFUSED');
      const out: RepairRecord[] = [];
      for await (const r of c.store.repairsHere()) {
        if (q.status && r.status !== q.status) continue;
        out.push(r);
        if (out.length >= 1000) break;
      }
      return out.sort((a, b) => a.appliedAt.localeCompare(b.appliedAt));
    },
  };
}
