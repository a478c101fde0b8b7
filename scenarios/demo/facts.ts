/**
 * Facts a department decides today, as rows a centre records while its node runs (`recordFacts`):
 * what the demo's stories and the monitoring tests feed the federation with.
 */
import { randomUUID } from 'node:crypto';
import { addMonthsIso, day } from '../../easyloan/util.ts';

/** A new administrative penalty decided today, as a department would report it (fact row). */
export function penaltyRow(uscc: string, options: { id?: string; severity?: 'MINOR' | 'GENERAL' } = {}) {
  const today = day(Date.now());
  const severity = options.severity ?? 'GENERAL';
  return {
    id: options.id ?? `pen-${randomUUID()}`,
    uscc,
    category: 'ADMINISTRATIVE',
    subtype: 'ADMIN_PENALTY',
    polarity: 'NEGATIVE',
    severity,
    legalDocumentRef: `厦市监罚〔${today.slice(0, 4)}〕${Math.floor(Math.random() * 9000) + 1000}号`,
    sourceUnit: '厦门市市场监督管理局',
    decisionDate: today,
    publicFrom: today,
    publicUntil: addMonthsIso(today, severity === 'MINOR' ? 3 : 6),
    usageRange: 'PUBLIC',
    payload: {
      decisionNo: `XM-${today}-${randomUUID().slice(0, 8)}`,
      penaltyCategory: '罚款',
      content: '未按规定公示年度报告',
      authority: '厦门市市场监督管理局',
      fineWan: 1.5,
    },
  };
}

/** A new abnormal-operation listing decided today (fact row). */
export function abnormalListingRow(uscc: string, sourceUnit = '泉州市市场监督管理局') {
  const today = day(Date.now());
  return {
    id: `abn-${randomUUID()}`,
    uscc,
    category: 'ABNORMAL_OPERATION',
    subtype: 'ABNORMAL_LIST',
    polarity: 'NEGATIVE',
    legalDocumentRef: `泉市监异〔${today.slice(0, 4)}〕${Math.floor(Math.random() * 9000) + 1000}号`,
    sourceUnit,
    decisionDate: today,
    publicFrom: today,
    usageRange: 'PUBLIC',
    payload: { reason: '通过登记的住所无法联系', listedOn: today, authority: sourceUnit },
  };
}
