/**
 * The rules of the one table as data: fields each record kind may carry, fields refused for
 * natural persons, payload fields per fact subtype, publicity windows (credit.md §2, §4.1, §7).
 */
import { type FactSubtype, TAX_GRADES } from './types.ts';

/** Longest accepted text field, in characters. */
export const MAX_TEXT_LENGTH = 4000;

/**
 * Field names refused for natural persons (religion, genes, fingerprints, blood type, medical
 * history: 征信业管理条例 Art 14, 厦门市公共信用信息管理办法). Compared after lower-casing and
 * removing `_`, `-` and spaces.
 */
export const PROHIBITED_FIELDS: ReadonlySet<string> = new Set([
  'religion',
  'religiousbelief',
  'gene',
  'genes',
  'genetic',
  'geneticdata',
  'dna',
  'fingerprint',
  'fingerprints',
  'bloodtype',
  'bloodgroup',
  'disease',
  'diseases',
  'medicalhistory',
  'medicalrecord',
  'illness',
  '宗教',
  '宗教信仰',
  '基因',
  '指纹',
  '血型',
  '疾病',
  '病史',
]);

export const ENTERPRISE_FIELDS = new Set([
  'kind',
  'uscc',
  'usccStatus',
  'name',
  'formerNames',
  'orgType',
  'registrationRegion',
  'domicileRegion',
  'status',
  'establishedOn',
  'registeredCapitalWan',
  'industryCode',
  'legalRepresentative',
  'legalRepIdNumber',
  'legalRepIdToken',
  'originNode',
  'version',
  'updatedAt',
]);
export const FACT_FIELDS = new Set([
  'kind',
  'id',
  'uscc',
  'category',
  'subtype',
  'polarity',
  'severity',
  'legalDocumentRef',
  'sourceUnit',
  'sourceUnitUscc',
  'decisionDate',
  'publicFrom',
  'publicUntil',
  'usageRange',
  'status',
  'payload',
  'originNode',
  'version',
  'updatedAt',
]);
export const LOAN_FIELDS = new Set([
  'kind',
  'bank',
  'loanId',
  'uscc',
  'outstandingYuan',
  'startDate',
  'maturityDate',
  'status',
  'updatedAt',
]);
export const LOAN_STATUSES = ['CURRENT', 'OVERDUE', 'SETTLED'] as const;

export type FieldType = 'string' | 'int' | 'number' | 'bool' | 'date' | 'month' | readonly string[];
export type PayloadSpec = Readonly<Record<string, { type: FieldType; optional?: boolean }>>;
const req = (type: FieldType) => ({ type });
const opt = (type: FieldType) => ({ type, optional: true });

/** Payload fields per fact subtype (credit.md §2.2, §2.6). */
export const PAYLOAD_SPECS: Readonly<Record<FactSubtype, PayloadSpec>> = {
  TAX_GRADE: { year: req('int'), grade: req(TAX_GRADES) },
  TAX_PAYMENT: { period: req('month'), taxType: opt('string'), amountBand: req('string') },
  TAX_ARREARS: { amountYuan: req('number'), announcedOn: opt('date') },
  SOCIAL_INSURANCE: { period: req('month'), insuredEmployees: req('int'), arrearsYuan: req('number') },
  HOUSING_FUND: { period: req('month'), depositors: req('int'), arrears: req('bool') },
  UTILITY: {
    period: req('month'),
    utility: req(['electricity', 'water', 'gas']),
    volume: req('number'),
    arrearsMonths: req('int'),
  },
  REAL_ESTATE: { properties: req('int'), mortgages: req('int'), seized: req('bool') },
  DISHONEST_DEBTOR: {
    caseNo: req('string'),
    court: req('string'),
    obligation: req('string'),
    performance: req('string'),
  },
  ENFORCEMENT: { caseNo: req('string'), court: req('string'), amountYuan: req('number') },
  JUDGMENT: { caseNo: req('string'), court: req('string'), cause: req('string') },
  ADMIN_PENALTY: {
    decisionNo: req('string'),
    penaltyCategory: req('string'),
    content: req('string'),
    authority: req('string'),
    fineWan: opt('number'),
  },
  ADMIN_LICENCE: {
    licenceNo: req('string'),
    licenceName: req('string'),
    validFrom: req('date'),
    validTo: opt('date'),
    authority: req('string'),
  },
  ABNORMAL_LIST: { reason: req('string'), listedOn: req('date'), authority: req('string'), removedOn: opt('date') },
  SERIOUS_DISHONESTY: {
    listName: req('string'),
    authority: req('string'),
    basis: req('string'),
    listedOn: req('date'),
  },
  HONOUR: { title: req('string'), grantor: req('string'), year: req('int') },
  COMMITMENT: {
    commitmentType: req('string'),
    acceptor: req('string'),
    content: req('string'),
    fulfilment: req(['PENDING', 'FULFILLED', 'BROKEN']),
  },
  EVALUATION: { grade: req(['A', 'B', 'C', 'D']), scheme: req('string'), evaluatedAt: req('date') },
};

/** Publicity windows in months by severity (credit.md §4.1): [minimum, maximum]. */
export const PUBLICITY_MONTHS: Readonly<Record<'MINOR' | 'GENERAL' | 'SERIOUS', readonly [number, number]>> = {
  MINOR: [0, 3],
  GENERAL: [3, 12],
  SERIOUS: [12, 36],
};
