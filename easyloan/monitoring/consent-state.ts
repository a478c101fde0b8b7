/** Whether a consent lets a bank monitor a borrower now: the one rule both ends of monitoring apply. */
import type { ConsentRecord } from '../../authz/lifecycle.ts';
import { MONITORING_PURPOSE } from '../types.ts';

/** A consent's standing for monitoring. */
export type MonitoringStanding =
  | { live: true; record: ConsentRecord }
  /** `final`: revoked, expired, rejected or not a monitoring consent of this bank (never live again). */
  | { live: false; reason: string; final: boolean };

const FINAL = new Set(['REVOKED', 'EXPIRED', 'REJECTED']);

/** Whether `record` is a live `post-loan-monitoring` consent of `uscc` for bank `bank` at `now`. */
export function monitoringStanding(
  record: ConsentRecord | undefined,
  bank: string,
  uscc: string,
  now: number,
): MonitoringStanding {
  if (!record) return { live: false, reason: 'NO_CONSENT', final: false };
  const b = record.body;
  if (b.enterprise !== uscc || b.grantee.node !== bank || b.purpose !== MONITORING_PURPOSE)
    return { live: false, reason: 'NO_CONSENT', final: true };
  let status: string = record.status;
  if ((status === 'ACTIVE' || status === 'PAUSED') && Date.parse(b.expiresAt) <= now) status = 'EXPIRED';
  if (status === 'ACTIVE' && Date.parse(b.notBefore) > now) status = 'NOT_YET_VALID';
  if (status === 'ACTIVE') return { live: true, record };
  return { live: false, reason: status, final: FINAL.has(status) };
}
