/**
 * Public credit comprehensive evaluation (公共信用综合评价) and 厦漳泉 mutual recognition
 * (DESIGN §8): indicator models as versioned data, the evaluator of a city node, signed
 * attestations, mutual-recognition agreements and their recognition. Start from
 * {@link createEvaluationService}.
 */
export * from './agreement.ts';
export type { AgreementBook, AgreementProposal, AgreementStatus } from './agreements.ts';
export * from './attestation.ts';
export { type Explanation, evaluateEnterprise, explanationDigest, type GradeCap } from './engine.ts';
export * from './errors.ts';
export { type EvaluationRunSummary, type Evaluator, RENEW_BEFORE_DAYS } from './evaluator.ts';
export { CROSS_CITY_PURPOSE, type PeerRef } from './exchange.ts';
export { describeIndicators, type IndicatorResult, type IndicatorValue, type IndicatorView } from './indicators.ts';
export type { EvaluationPeers } from './ports.ts';
export * from './scheme.ts';
export * from './schemes.ts';
export * from './service.ts';
export {
  type GradeRecord,
  RECOGNITION_REASONS,
  type RecognitionOutcome,
  type RecognitionReason,
  type RecognitionRecord,
  type StoredAgreement,
} from './store.ts';
export type { CentreInfo, DistributionRow } from './types.ts';
