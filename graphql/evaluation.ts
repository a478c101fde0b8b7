/**
 * Public credit evaluation and 厦漳泉 mutual recognition: an enterprise's grade with its
 * explanation, other cities' grades as recognised here, grade counts, full runs and
 * recognition agreements. Served by the city centres only; the evaluation service decides who
 * may see or do what.
 */
import { InvalidInputError } from '../authz/index.ts';
import type { AgreementView, EvaluationService, EvaluationView, RecognitionRecord } from '../evaluation/index.ts';
import { type Context, who } from './root.ts';

/** SDL of evaluation and recognition. */
export const evaluationTypeDefs = /* GraphQL */ `
  type SchemeRef { id: String! version: String! }
  "A grade as a signed document; check it offline with credit-node verify attestation."
  type SignedAttestation { document: String! signature: String! signedBy: String! }
  "One indicator of a grade: its value, points (out of its weight) and the facts behind it."
  type EvaluationIndicator {
    id: String!
    kind: String!
    name: String!
    weight: Int!
    value: JSON
    points: Int!
    facts: [String!]!
    "Facts under objection, still counted until the objection is decided."
    disputed: [String!]
    note: String
    "When time alone changes the value (a publicity window ends, an anniversary passes)."
    changesOn: String
  }
  type GradeCap { grade: String! reason: String! facts: [String!]! }
  type PastGrade { seq: Int! grade: String! score: Int! maxScore: Int! scheme: SchemeRef! evaluatedAt: String! validUntil: String! }
  "An enterprise's public credit grade (公共信用综合评价): the indicator points add up to the score."
  type Evaluation {
    uscc: String!
    grade: String!
    score: Int!
    maxScore: Int!
    "The grade the score gives before any cap."
    scoreGrade: String!
    thresholds: JSON!
    cap: GradeCap
    scheme: SchemeRef!
    evaluator: String!
    city: String!
    industry: String!
    seq: Int!
    evaluatedAt: String!
    validUntil: String!
    inputsDigest: String!
    explanationDigest: String!
    indicators: [EvaluationIndicator!]!
    attestation: SignedAttestation!
    "Earlier grades, oldest first."
    history: [PastGrade!]!
  }
  "Another city's grade as this city recognises it (or why it does not)."
  type RecognisedGrade {
    city: String!
    evaluator: String
    scheme: SchemeRef
    foreignGrade: String
    "The grade on this city's scale (D when capped locally)."
    localGrade: String
    recognised: Boolean!
    "STALE, UNKNOWN_SCHEME, BAD_SIGNATURE, NO_AGREEMENT, AGREEMENT_EXPIRED or CAPPED_LOCALLY."
    reason: String
    detail: String
    agreementId: String
    evaluatedAt: String
    validUntil: String
    receivedAt: String!
    attestation: SignedAttestation!
  }
  type RecognisedEvaluations {
    uscc: String!
    city: String!
    "This city's own grade (when the enterprise is domiciled here)."
    local: Evaluation
    recognised: [RecognisedGrade!]!
    "Home centres that did not answer: the attestation held here, if any, is shown."
    unavailable: [String!]!
  }
  type GradeCount { city: String! industry: String! grade: String! count: Int! }
  type GradeDistribution { rows: [GradeCount!]! unavailable: [String!]! }
  type EvaluationRun { enterprises: Int! graded: Int! unchanged: Int! grades: JSON! ms: Int! }
  "A mutual-recognition agreement between two cities' centres (both must sign it)."
  type RecognitionAgreement {
    id: ID!
    "PROPOSED (one signature), IN_FORCE, NOT_YET or EXPIRED."
    status: String!
    parties: JSON!
    recognise: JSON!
    freshnessDays: Int!
    validFrom: String!
    validUntil: String!
    issuedAt: String!
    signedBy: [String!]!
    "The signed document { body, signatures }."
    agreement: JSON!
    delivered: Boolean
    distributedTo: [String!]
  }
  type Recognition {
    recognised: Boolean!
    localGrade: String
    reason: String
    detail: String
    agreementId: String
    subject: String
    foreignGrade: String
    evaluator: String
    evaluatedAt: String
  }
  input AgreementProposalInput {
    "Node id of the other city's centre."
    with: String!
    freshnessDays: Int
    "Validity in days (default 3 years)."
    days: Int
    "Rules [{ from, to, scheme, versions, grades }]; default: each recognises the other's current scheme, grade for grade."
    recognise: JSON
  }

  extend type Query {
    "An enterprise's grade with its explanation (centre staff of its city, or the enterprise itself)."
    evaluation(uscc: String!): Evaluation!
    "This city's grade beside the grades of other cities as recognised here (fetched from the home centre)."
    recognisedEvaluations(uscc: String!): RecognisedEvaluations!
    "Grade counts per city and industry (centre staff)."
    gradeDistribution: GradeDistribution!
    "Mutual-recognition agreements and proposals held here (centre staff)."
    recognitionAgreements: [RecognitionAgreement!]!
  }

  extend type Mutation {
    "Centre staff run a full evaluation, or re-grade one enterprise."
    runEvaluation(uscc: String): EvaluationRun!
    "Centre staff propose a mutual-recognition agreement to another city's centre (signed by this centre)."
    proposeRecognitionAgreement(input: AgreementProposalInput!): RecognitionAgreement!
    "Centre staff counter-sign a proposal; the agreement is then distributed to every centre."
    signRecognitionAgreement(id: ID!): RecognitionAgreement!
    "Centre staff keep an agreement signed by both parties (e.g. from a file)."
    importRecognitionAgreement(agreement: JSON!): RecognitionAgreement!
    "Centre staff check how this city recognises an attestation."
    recogniseAttestation(attestation: JSON!): Recognition!
  }
`;

/** What the evaluation resolvers call. */
export interface EvaluationResolverServices {
  /** Public credit evaluation and mutual recognition (city centres only). */
  evaluation?: EvaluationService;
}

/** A grade as the schema's Evaluation: the record with its explanation's fields. */
function evaluationView(v: EvaluationView) {
  const { explanation: e, ...rest } = v;
  return { ...rest, scoreGrade: e.scoreGrade, thresholds: e.thresholds, cap: e.cap ?? null, indicators: e.indicators };
}
const recognisedView = (r: RecognitionRecord) => ({
  ...r.outcome,
  evaluator: r.outcome.evaluator?.node ?? null,
  city: r.city,
  receivedAt: r.receivedAt,
  attestation: r.attestation,
});
const agreementView = (a: AgreementView) => ({ ...a.agreement.body, ...a });

/** Resolvers of evaluation and recognition. */
export function evaluationResolvers(s: EvaluationResolverServices) {
  const evaluation = () => {
    if (!s.evaluation)
      throw new InvalidInputError('this node grades no enterprise: evaluation runs at the city centres');
    return s.evaluation;
  };
  return {
    Query: {
      evaluation: async (_: unknown, a: { uscc: string }, ctx: Context) =>
        evaluationView(await evaluation().view(who(ctx), a.uscc, ctx.correlationId)),
      recognisedEvaluations: async (_: unknown, a: { uscc: string }, ctx: Context) => {
        const v = await evaluation().recognisedView(who(ctx), a.uscc, ctx.correlationId);
        return { ...v, local: v.local && evaluationView(v.local), recognised: v.recognised.map(recognisedView) };
      },
      gradeDistribution: (_: unknown, __: unknown, ctx: Context) => evaluation().distributions(who(ctx)),
      recognitionAgreements: async (_: unknown, __: unknown, ctx: Context) =>
        (await evaluation().listAgreements(who(ctx))).map(agreementView),
    },
    Mutation: {
      runEvaluation: (_: unknown, a: { uscc?: string | null }, ctx: Context) =>
        evaluation().run(who(ctx), a.uscc ?? undefined),
      proposeRecognitionAgreement: async (
        _: unknown,
        a: { input: { with: string; freshnessDays?: number | null; days?: number | null; recognise?: unknown } },
        ctx: Context,
      ) =>
        agreementView(
          await evaluation().proposeAgreement(who(ctx), {
            with: a.input.with,
            ...(a.input.freshnessDays != null ? { freshnessDays: a.input.freshnessDays } : {}),
            ...(a.input.days != null ? { days: a.input.days } : {}),
            ...(a.input.recognise != null ? { recognise: a.input.recognise as never } : {}),
          }),
        ),
      signRecognitionAgreement: async (_: unknown, a: { id: string }, ctx: Context) =>
        agreementView(await evaluation().signAgreement(who(ctx), a.id)),
      importRecognitionAgreement: async (_: unknown, a: { agreement: unknown }, ctx: Context) =>
        agreementView(await evaluation().importAgreement(who(ctx), a.agreement)),
      recogniseAttestation: async (_: unknown, a: { attestation: unknown }, ctx: Context) => {
        who(ctx, 'centre-staff');
        const o = await evaluation().recognise(a.attestation);
        return { ...o, evaluator: o.evaluator?.node ?? null };
      },
    },
  };
}
