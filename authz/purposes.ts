/**
 * The purpose registry: each purpose caps how long a consent may last and which scopes it may
 * cover (PIPL Art 6: purpose limitation and minimisation). The vocabulary is closed.
 */
import { SECTIONS, type Section } from '../model/index.ts';

/** A registered purpose. */
export interface Purpose {
  id: string;
  description: string;
  /** Longest validity of a consent for this purpose, in days. */
  maxDays: number;
  scopes: readonly Section[];
  /** Longest retention the grantee may claim, in days. */
  maxRetentionDays: number;
}

const ALL = SECTIONS;
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
    id: 'supply-chain-finance',
    description: 'Supply-chain finance (供应链金融)',
    maxDays: 180,
    scopes: [...PROCESS, 'judicial', 'penalties', 'evaluation'],
    maxRetentionDays: 1095,
  },
];

const BY_ID = new Map(PURPOSES.map((p) => [p.id, p]));

/** A registered purpose by id. */
export function purposeById(id: string): Purpose | undefined {
  return BY_ID.get(id);
}
