/** Fixture builders of registration records and facts for evaluation tests. */
import type { CreditFact, LegalPerson } from '../model/index.ts';

let seq = 0;

/** A registration record domiciled in Zhangzhou (override any field). */
export function registration(over: Partial<LegalPerson> = {}): LegalPerson {
  return {
    uscc: '91350602MA2Y0CGN4R',
    usccStatus: 'VALID',
    name: '漳州测试贸易有限公司',
    formerNames: [],
    orgType: '91',
    registrationRegion: '350602',
    domicileRegion: '350602',
    status: 'EXISTING',
    establishedOn: '2010-05-01',
    industryCode: 'F5191',
    originNode: 'zz-centre',
    version: 1,
    updatedAt: '2026-01-01T00:00:00Z',
    ...over,
  };
}

/** A fact of `subtype` about `uscc` (override any field). */
export function fact(subtype: CreditFact['subtype'], over: Partial<CreditFact> = {}): CreditFact {
  seq++;
  return {
    id: `T${String(seq).padStart(7, '0')}`,
    uscc: '91350602MA2Y0CGN4R',
    category: 'ADMINISTRATIVE',
    subtype,
    polarity: 'NEUTRAL',
    sourceUnit: '测试单位',
    decisionDate: '2026-03-01',
    usageRange: 'PUBLIC',
    status: 'ACTIVE',
    payload: {},
    originNode: 'zz-centre',
    version: 1,
    updatedAt: '2026-03-01T00:00:00Z',
    ...over,
  };
}

/** A negative penalty of a severity, public from `from` for `months`. */
export function penalty(
  severity: 'MINOR' | 'GENERAL' | 'SERIOUS',
  from: string,
  until: string,
  over: Partial<CreditFact> = {},
) {
  return fact('ADMIN_PENALTY', {
    polarity: 'NEGATIVE',
    severity,
    legalDocumentRef: '罚〔2026〕1号',
    decisionDate: from,
    publicUntil: until,
    payload: { decisionNo: 'x', penaltyCategory: '罚款', content: 'x', authority: 'x' },
    ...over,
  });
}

/** An active serious-dishonesty listing from `from`. */
export function seriousListing(from = '2026-06-01', over: Partial<CreditFact> = {}) {
  return fact('SERIOUS_DISHONESTY', {
    category: 'SERIOUS_DISHONESTY',
    polarity: 'NEGATIVE',
    severity: 'SERIOUS',
    legalDocumentRef: '严违〔2026〕1号',
    decisionDate: from,
    payload: { listName: '严重违法失信名单', authority: 'x', basis: 'x', listedOn: from },
    ...over,
  });
}

/** The latest-year tax grade. */
export function taxGrade(grade: string, year = 2025, over: Partial<CreditFact> = {}) {
  return fact('TAX_GRADE', {
    category: 'COMPLIANCE',
    decisionDate: `${year + 1}-04-15`,
    payload: { year, grade },
    ...over,
  });
}
