/**
 * The purpose registry: each purpose caps how long a consent may last and which scopes it may
 * cover (PIPL Art 6: purpose limitation and minimisation). The vocabulary is closed.
 */
import { SECTIONS, type Section } from '../model/index.ts';

/** Joint queries a consent may cover (DESIGN §7): computed across holders, no raw figure released. */
export const JOINT_QUERIES = ['joint:exposure', 'joint:score', 'joint:listCheck'] as const;
/** A joint-query scope. */
export type JointQuery = (typeof JOINT_QUERIES)[number];
/** What a consent may cover: profile sections and joint queries. */
export type Scope = Section | JointQuery;
/** Every scope, in a stable order. */
export const SCOPES: readonly Scope[] = [...SECTIONS, ...JOINT_QUERIES];

/** A registered purpose. */
export interface Purpose {
  id: string;
  description: string;
  /** Longest validity of a consent for this purpose, in days. */
  maxDays: number;
  scopes: readonly Scope[];
  /** Longest retention the grantee may claim, in days. */
  maxRetentionDays: number;
}

const ALL: readonly Scope[] = SCOPES;
const PROCESS: Section[] = ['registration', 'tax', 'socialInsurance', 'housingFund', 'utilities', 'realEstate'];

/** The registry (DESIGN §5). */
export const PURPOSES: readonly Purpose[] = [
  {
    id: 'loan-application',
    description: 'Assess a loan application (贷前审查)',
    maxDays: 90,
    scopes: ALL,
    maxRetentionDays: 1825,
  },
  {
    id: 'post-loan-monitoring',
    description: 'Monitor an outstanding loan (贷后管理)',
    maxDays: 365,
    scopes: [
      'registration',
      'tax',
      'socialInsurance',
      'utilities',
      'judicial',
      'penalties',
      'abnormalList',
      'seriousDishonesty',
      'evaluation',
      ...JOINT_QUERIES,
    ],
    maxRetentionDays: 1825,
  },
  {
    id: 'credit-evaluation',
    description: 'Public credit comprehensive evaluation (信用评价)',
    maxDays: 30,
    scopes: ALL,
    maxRetentionDays: 365,
  },
  {
    // Centre to centre under the 厦漳泉 agreements (DESIGN §8): recorded in both centres' logs. No
    // consent names it (no scopes): a bank reads a grade as the evaluation section under a consent.
    id: 'cross-city-recognition',
    description: 'Recognition of a public credit grade between city credit centres (信用评价互认)',
    maxDays: 365,
    scopes: [],
    maxRetentionDays: 365,
  },
  {
    id: 'supply-chain-finance',
    description: 'Supply-chain finance (供应链金融)',
    maxDays: 180,
    scopes: [...PROCESS, 'judicial', 'penalties', 'evaluation', ...JOINT_QUERIES],
    maxRetentionDays: 1095,
  },
];

const BY_ID = new Map(PURPOSES.map((p) => [p.id, p]));

/** A registered purpose by id. */
export function purposeById(id: string): Purpose | undefined {
  return BY_ID.get(id);
}
