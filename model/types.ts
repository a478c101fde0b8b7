/**
 * The one-table data model (一张表, DESIGN §3): a legal person record plus credit facts.
 * Every node stores and exchanges these shapes.
 */

/** Profile sections a bank sees; each is a consent scope. */
export const SECTIONS = [
  'registration',
  'tax',
  'socialInsurance',
  'housingFund',
  'utilities',
  'realEstate',
  'judicial',
  'penalties',
  'licences',
  'abnormalList',
  'seriousDishonesty',
  'honours',
  'commitments',
  'evaluation',
] as const;
/** A profile section (consent scope). */
export type Section = (typeof SECTIONS)[number];

/** Fact subtypes and the profile section each belongs to. */
export const FACT_SECTION = {
  TAX_GRADE: 'tax',
  TAX_PAYMENT: 'tax',
  TAX_ARREARS: 'tax',
  SOCIAL_INSURANCE: 'socialInsurance',
  HOUSING_FUND: 'housingFund',
  UTILITY: 'utilities',
  REAL_ESTATE: 'realEstate',
  DISHONEST_DEBTOR: 'judicial',
  ENFORCEMENT: 'judicial',
  JUDGMENT: 'judicial',
  ADMIN_PENALTY: 'penalties',
  ADMIN_LICENCE: 'licences',
  ABNORMAL_LIST: 'abnormalList',
  SERIOUS_DISHONESTY: 'seriousDishonesty',
  HONOUR: 'honours',
  COMMITMENT: 'commitments',
  EVALUATION: 'evaluation',
} as const satisfies Record<string, Exclude<Section, 'registration'>>;
/** A credit fact subtype. */
export type FactSubtype = keyof typeof FACT_SECTION;
/** All fact subtypes. */
export const FACT_SUBTYPES = Object.keys(FACT_SECTION) as FactSubtype[];

/** National public credit information catalogue categories (2024 edition). */
export const CATALOGUE_CATEGORIES = [
  'REGISTRATION',
  'JUDICIAL',
  'ADMINISTRATIVE',
  'ABNORMAL_OPERATION',
  'SERIOUS_DISHONESTY',
  'CONTRACT_PERFORMANCE',
  'COMMITMENT',
  'EVALUATION',
  'HONOUR',
  'COMPLIANCE',
  'INTELLECTUAL_PROPERTY',
  'PROFESSIONAL',
  'VOLUNTARY',
] as const;
/** A catalogue category. */
export type CatalogueCategory = (typeof CATALOGUE_CATEGORIES)[number];

export const POLARITIES = ['POSITIVE', 'NEUTRAL', 'NEGATIVE'] as const;
export type Polarity = (typeof POLARITIES)[number];
export const SEVERITIES = ['MINOR', 'GENERAL', 'SERIOUS'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const USAGE_RANGES = ['PUBLIC', 'GOV_SHARED', 'AUTHORIZED_ONLY'] as const;
export type UsageRange = (typeof USAGE_RANGES)[number];
export const FACT_STATUSES = ['ACTIVE', 'DISPUTED', 'REPAIRED', 'EXPIRED', 'CORRECTED'] as const;
export type FactStatus = (typeof FACT_STATUSES)[number];
export const LEGAL_PERSON_STATUSES = ['EXISTING', 'REVOKED', 'CANCELLED', 'MOVED_OUT'] as const;
export type LegalPersonStatus = (typeof LEGAL_PERSON_STATUSES)[number];
/** Tax credit grades; `M` means "insufficient history", never a quality grade. */
export const TAX_GRADES = ['A', 'B', 'M', 'C', 'D'] as const;
export type TaxGrade = (typeof TAX_GRADES)[number];

/** A legal person (法人) record: the registration section. */
export interface LegalPerson {
  uscc: string;
  /** `VALID_LEGACY_PILOT` for allow-listed pilot codes that fail the checksum. */
  usccStatus: 'VALID' | 'VALID_LEGACY_PILOT';
  name: string;
  formerNames: string[];
  /** USCC positions 1–2: registration authority and category (e.g. `91` enterprise). */
  orgType: string;
  /** USCC positions 3–8, frozen at issue. */
  registrationRegion: string;
  /** Current domicile division: the routing key between cities. */
  domicileRegion: string;
  status: LegalPersonStatus;
  /** ISO date `YYYY-MM-DD`. */
  establishedOn: string;
  registeredCapitalWan?: number;
  /** GB/T 4754 industry code, e.g. `C3311`. */
  industryCode?: string;
  legalRepresentative?: string;
  /** Keyed token of the representative's ID number; the number itself is never stored. */
  legalRepIdToken?: string;
  /** Node that holds the authoritative record. */
  originNode: string;
  version: number;
  /** ISO time of the last change at the source, used as the incremental-sync watermark. */
  updatedAt: string;
}

/** One credit fact: a row of the one table. */
export interface CreditFact {
  id: string;
  uscc: string;
  category: CatalogueCategory;
  subtype: FactSubtype;
  polarity: Polarity;
  severity?: Severity;
  /** Legal document number; required when `polarity` is `NEGATIVE`. */
  legalDocumentRef?: string;
  sourceUnit: string;
  sourceUnitUscc?: string;
  /** ISO date `YYYY-MM-DD`. */
  decisionDate: string;
  publicFrom?: string;
  publicUntil?: string;
  usageRange: UsageRange;
  status: FactStatus;
  payload: Record<string, unknown>;
  originNode: string;
  version: number;
  updatedAt: string;
}

/** A loan on a bank's own (private) book. */
export interface LoanRecord {
  bank: string;
  loanId: string;
  uscc: string;
  /** Outstanding principal in yuan (integer). */
  outstandingYuan: number;
  startDate: string;
  maturityDate: string;
  status: 'CURRENT' | 'OVERDUE' | 'SETTLED';
  updatedAt: string;
}

/** What a connector row normalises into. */
export type IngestRecord =
  | { kind: 'enterprise'; record: LegalPerson }
  | { kind: 'fact'; record: CreditFact }
  | { kind: 'loan'; record: LoanRecord };

/** Kinds of ingestible records. */
export type RecordKind = IngestRecord['kind'];
