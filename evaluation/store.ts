/**
 * What evaluation keeps, in the node's `evaluation` sublevel (grades, history, recognitions,
 * subscriptions) and `evaluation-agreements` sublevel (agreements, beside the roster's `federation`
 * sublevel). Keys (`!` separates parts; USCCs, cities and node ids never contain it):
 *
 * - `h!<uscc>!<seq>` → `StoredGrade` (record.ts): every grade this node issued, the current one and the
 *   earlier ones (seq zero-padded to 10 digits); a new grade never rewrites an old one
 * - `c!<uscc>` → {@link CurrentGrade}: which grade is current, with what a full run compares
 *   (small: a run reads it beside the inputs; distributions count it)
 * - `r!<uscc>!<city>` → {@link RecognitionRecord}: the latest attestation of another city and how
 *   this node recognised it
 * - `s!<uscc>!<node>` → ISO time: a centre that recognised this node's grade, to push new ones to
 * - agreements: `a!<id>` → {@link StoredAgreement}
 */
import type { CityId } from '../model/index.ts';
import { jsonSublevel, type RootDb, type Sublevel } from '../storage/index.ts';
import type { SignedAgreement } from './agreement.ts';
import type { SignedAttestation } from './attestation.ts';
import type { Explanation } from './engine.ts';
import type { Grade } from './scheme.ts';

/** A grade issued by this node. */
export interface GradeRecord {
  uscc: string;
  /** 1 for the first grade of the enterprise at this node, +1 for each new one. */
  seq: number;
  grade: Grade;
  score: number;
  maxScore: number;
  scheme: { id: string; version: string };
  evaluator: string;
  city: CityId;
  evaluatedAt: string;
  validUntil: string;
  /** When time alone could change the grade (`YYYY-MM-DD`); the evaluator re-grades from then. */
  stableUntil?: string;
  inputsDigest: string;
  explanationDigest: string;
  /** GB/T 4754 section letter of the enterprise's industry, `?` when unknown. */
  industry: string;
  explanation: Explanation;
  /** The attestation document (canonical JSON), signed when the grade is issued (see `Evaluator.issue`). */
  document: string;
}

/** The index entry of an enterprise's current grade. */
export interface CurrentGrade {
  seq: number;
  grade: Grade;
  industry: string;
  inputsDigest: string;
  validUntil: string;
  stableUntil?: string;
  /** `id@version` of the scheme. */
  scheme: string;
}

/** Why a foreign attestation is not recognised as is. */
export const RECOGNITION_REASONS = [
  'STALE',
  'UNKNOWN_SCHEME',
  'BAD_SIGNATURE',
  'NO_AGREEMENT',
  'AGREEMENT_EXPIRED',
  'CAPPED_LOCALLY',
] as const;
/** Why a foreign attestation is not recognised as is. */
export type RecognitionReason = (typeof RECOGNITION_REASONS)[number];

/** How this node recognises one attestation. */
export interface RecognitionOutcome {
  /** True when the grade counts here as `localGrade` under an agreement in force. */
  recognised: boolean;
  /** The grade on this city's scale: the mapped grade, or D when capped locally. */
  localGrade?: Grade;
  reason?: RecognitionReason;
  /** A human-readable detail of the reason. */
  detail?: string;
  /** The agreement applied. */
  agreementId?: string;
  subject?: string;
  foreignGrade?: Grade;
  scheme?: { id: string; version: string };
  evaluator?: { node: string; city: CityId };
  evaluatedAt?: string;
  validUntil?: string;
  seq?: number;
}

/** A foreign attestation held here, with the outcome of its recognition. */
export interface RecognitionRecord {
  city: CityId;
  attestation: SignedAttestation;
  outcome: RecognitionOutcome;
  /** When this node received it (fetched or pushed). */
  receivedAt: string;
  /** When its recognition was last decided. */
  decidedAt: string;
}

/** An agreement held here. */
export interface StoredAgreement {
  id: string;
  agreement: SignedAgreement;
  /** Parties whose valid signature it carries. */
  signedBy: string[];
  receivedAt: string;
}

/** The sublevels and key builders. */
export interface EvaluationStore {
  db: RootDb;
  grades: Sublevel<unknown>;
  agreements: Sublevel<StoredAgreement>;
}

/** Opens the evaluation sublevels. */
export function evaluationStore(db: RootDb): EvaluationStore {
  return {
    db,
    grades: jsonSublevel(db, 'evaluation'),
    agreements: jsonSublevel<StoredAgreement>(db, 'evaluation-agreements'),
  };
}

/** Key builders of the `evaluation` sublevel. */
export const keys = {
  current: (uscc: string) => `c!${uscc}`,
  history: (uscc: string, seq: number) => `h!${uscc}!${String(seq).padStart(10, '0')}`,
  historyRange: (uscc: string) => ({ gte: `h!${uscc}!`, lt: `h!${uscc}!\xff` }),
  currentRange: { gte: 'c!', lt: 'c"' },
  recognition: (uscc: string, city: string) => `r!${uscc}!${city}`,
  recognitionRange: (uscc: string) => ({ gte: `r!${uscc}!`, lt: `r!${uscc}!\xff` }),
  subscriber: (uscc: string, node: string) => `s!${uscc}!${node}`,
  subscriberRange: (uscc: string) => ({ gte: `s!${uscc}!`, lt: `s!${uscc}!\xff` }),
  agreement: (id: string) => `a!${id}`,
};
