/** The GraphQL schema (SDL). Shape per DESIGN §10; every field is gated in its resolver. */
export const typeDefs = /* GraphQL */ `
  "Arbitrary JSON (fact payloads)."
  scalar JSON

  enum Role { BANK_OFFICER ENTERPRISE CENTRE_STAFF AUDITOR }
  enum ConsentStatus { REQUESTED ACTIVE PAUSED REVOKED EXPIRED REJECTED }
  enum Decision { ALLOW DENY }

  type Principal { sub: String! role: Role! bank: String uscc: String }

  type Purpose { id: ID! description: String! maxDays: Int! scopes: [String!]! maxRetentionDays: Int! }

  "Registration section (登记注册): the legal person record."
  type Registration {
    uscc: String!
    usccStatus: String!
    name: String!
    formerNames: [String!]!
    orgType: String!
    registrationRegion: String!
    domicileRegion: String!
    status: String!
    establishedOn: String!
    registeredCapitalWan: Float
    industryCode: String
    legalRepresentative: String
    originNode: String!
    updatedAt: String!
  }

  "One credit fact of the one table (一张表)."
  type Fact {
    id: ID!
    subtype: String!
    category: String!
    polarity: String!
    severity: String
    legalDocumentRef: String
    sourceUnit: String!
    decisionDate: String!
    publicFrom: String
    publicUntil: String
    usageRange: String!
    status: String!
    payload: JSON!
    originNode: String!
    version: Int!
  }

  type SectionSource { section: String! node: String }

  "An enterprise profile: one field per section, each released only under a live consent."
  type EnterpriseProfile {
    uscc: String!
    registration: Registration
    tax: [Fact!]
    socialInsurance: [Fact!]
    housingFund: [Fact!]
    utilities: [Fact!]
    realEstate: [Fact!]
    judicial: [Fact!]
    penalties: [Fact!]
    licences: [Fact!]
    abnormalList: [Fact!]
    seriousDishonesty: [Fact!]
    honours: [Fact!]
    commitments: [Fact!]
    evaluation: [Fact!]
    "Which node served each section."
    servedBy: [SectionSource!]!
    "Sections that could not be fetched (PEER_UNAVAILABLE)."
    unavailable: [String!]!
  }

  type SectionCount { section: String! count: Int! }

  "A credit report; document + signature can be archived and verified later."
  type CreditReport {
    reportId: ID!
    generatedAt: String!
    issuer: String!
    uscc: String!
    purpose: String!
    "The consent the report was issued under, and until when the grantee may keep it (its retentionDays)."
    consentId: ID
    retainUntil: String
    sections: [String!]!
    summary: [SectionCount!]!
    profile: EnterpriseProfile!
    document: String!
    signature: String!
    signedBy: String!
  }

  type Transition { to: ConsentStatus! at: String! by: String! role: String! node: String! reason: String }

  type Consent {
    id: ID!
    enterprise: String!
    grantee: String!
    officer: String
    scopes: [String!]!
    purpose: String!
    notBefore: String!
    expiresAt: String!
    maxUses: Int
    uses: Int!
    retentionDays: Int!
    issuedAt: String!
    status: ConsentStatus!
    history: [Transition!]!
    "The canonical body the enterprise signs (JSON)."
    body: JSON!
    signature: String
    home: String!
  }

  type KeyBinding { uscc: String! publicKey: String! issuer: String! issuedAt: String! signature: String! }

  "A signed checkpoint; served to clients only once a majority of witnesses cosigned it (cosignature lines in the note)."
  type Checkpoint { size: Int! root: String! note: String! witnesses: [String!]! }

  type AccessEntry {
    index: Int!
    leafHash: String!
    time: String!
    node: String!
    principal: String!
    role: String!
    action: String!
    decision: Decision!
    reason: String
    purpose: String
    "The consent used or asked for: shown to the enterprise (from its opening), otherwise null."
    consentId: String
    "Commitment to the consent id (opened by the enterprise's opening)."
    consentRef: String
    scopes: [String!]!
    resultDigest: String
    correlationId: String!
    "The entry with its inclusion proof and signed checkpoint, for credit-node verify bundle."
    bundle: JSON
  }

  type CosignedCheckpoint { size: Int! root: String! note: String! witnesses: [String!]! }

  type AccessLogInfo {
    origin: String!
    verifierKey: String!
    size: Int!
    "Cosignatures a checkpoint needs before clients are shown it (a majority of the other members)."
    witnessQuorum: Int!
    "The newest checkpoint a majority of witnesses cosigned (note with cosignature lines)."
    latestCheckpoint: Checkpoint
    "The same checkpoint (kept for clients of the earlier schema)."
    cosigned: CosignedCheckpoint
  }

  type FederationMember {
    nodeId: String!
    name: String!
    role: String!
    city: String
    up: Boolean!
    lastSeen: String
    rttMs: Float
    rosterVersion: Int
    checkpointSize: Int
    "Its data is not trusted until an operator clears the witness alarms about it."
    quarantined: Boolean!
  }

  type FederationAlarm { kind: String! nodeId: String origin: String at: String detail: String! evidence: [String!]! }

  type Federation {
    nodeId: String!
    role: String!
    rosterVersion: Int!
    members: [FederationMember!]!
    alarms: [FederationAlarm!]!
    quarantined: [String!]!
  }

  "One node's entries about the signed-in enterprise."
  type NodeAccessEntries { node: String! entries: [AccessEntry!]! }

  "The signed-in enterprise's entries on every node of the federation; nodes that did not answer are listed."
  type MyAccessLog { nodes: [NodeAccessEntries!]! unavailable: [String!]! }

  type ErasedOpenings { node: String! openings: Int! }
  type ErasureResult { erased: [ErasedOpenings!]! unavailable: [String!]! }

  enum JointKind { EXPOSURE SCORE }

  input JointQueryInput {
    kind: JointKind!
    "Up to 10,000 enterprises; each needs a consent covering joint:exposure or joint:score for this bank and purpose."
    usccs: [String!]!
    purpose: String!
    "Wait for the result (default true); false returns the running job at once, to poll with jointQueryJob."
    wait: Boolean
  }

  "One enterprise's answer: exposure at the other banks, or the multi-source score."
  type JointRow {
    uscc: String!
    "OK, REFUSED (no consent here, malformed code) or FAILED (the batch could not be computed)."
    status: String!
    reason: String
    "The consent the query relied on for this enterprise."
    consentId: ID
    outstandingYuan: Float
    overdueYuan: Float
    lenders: Int
    score: Float
    "Contributors whose part is missing for this enterprise (refused for lack of consent, or dropped out)."
    without: [String!]
  }

  type JointProvenance { node: String! queryId: String! checkpoint: String }

  type JointResult {
    kind: String!
    queryIds: [String!]!
    rows: [JointRow!]!
    contributors: [String!]!
    dropped: [String!]!
    provenance: [JointProvenance!]!
    model: String
  }

  type JointJob {
    id: ID!
    kind: String!
    status: String!
    done: Int!
    total: Int!
    startedAt: String!
    endedAt: String
    error: String
    result: JointResult
  }

  type Listing { centre: String! list: String! }
  "One enterprise's list check: the lists it is on, by centre (empty: on none of the centres that answered)."
  type ListCheckRow { uscc: String! status: String! reason: String listed: [Listing!]! }
  type CentreLists { centre: String! versions: JSON! }
  type ListCheckResult {
    rows: [ListCheckRow!]!
    centres: [CentreLists!]!
    "Centres that did not answer: their lists are not reflected in the rows."
    unavailable: [String!]!
  }

  type AuditResult { entries: [AccessEntry!]! scanned: Int! truncated: Boolean! }

  input AuditFilter {
    bank: String
    principal: String
    purpose: String
    action: String
    decision: Decision
    from: String
    to: String
    first: Int
  }

  input ConsentRequestInput {
    enterprise: String!
    scopes: [String!]!
    purpose: String!
    days: Int!
    maxUses: Int
    retentionDays: Int
    officer: String
  }

  input SignedConsentInput { body: JSON! signature: String! }

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

  type Query {
    "The authenticated caller."
    me: Principal!
    purposes: [Purpose!]!
    "A bank officer reads an enterprise profile for a stated purpose."
    enterprise(uscc: String!, purpose: String!, consentId: ID): EnterpriseProfile
    "Several enterprises in one request (batched reads)."
    enterprises(usccs: [String!]!, purpose: String!): [EnterpriseProfile]!
    creditReport(uscc: String!, purpose: String!, consentId: ID): CreditReport
    consent(id: ID!): Consent
    "An enterprise sees its own consents, a bank those granted to it, staff and auditors all."
    consents(uscc: String, status: ConsentStatus, first: Int): [Consent!]!
    keyBinding(uscc: String!): KeyBinding
    accessLog: AccessLogInfo!
    "Federation members, their health, and alarms (split views, roster conflicts)."
    federation: Federation
    "An enterprise lists who used its data (with proofs)."
    myAccessEntries(first: Int): [AccessEntry!]!
    "An enterprise lists who used its data, or tried to, on every node of the federation (with proofs)."
    myAccessLog(first: Int): MyAccessLog!
    "A bank officer polls a joint query started on this node."
    jointQueryJob(id: ID!): JointJob!
    "An auditor lists entries by bank, purpose and time range."
    auditEntries(filter: AuditFilter): AuditResult!
    checkpoints(first: Int, beforeSize: Int): [Checkpoint!]!
    consistencyProof(size1: Int!, size2: Int!): [String!]!
    inclusionProof(index: Int!, size: Int!): [String!]!
    "An enterprise's grade with its explanation (centre staff of its city, or the enterprise itself)."
    evaluation(uscc: String!): Evaluation!
    "This city's grade beside the grades of other cities as recognised here (fetched from the home centre)."
    recognisedEvaluations(uscc: String!): RecognisedEvaluations!
    "Grade counts per city and industry (centre staff)."
    gradeDistribution: GradeDistribution!
    "Mutual-recognition agreements and proposals held here (centre staff)."
    recognitionAgreements: [RecognitionAgreement!]!
  }

  type Mutation {
    requestConsent(input: ConsentRequestInput!): Consent!
    approveConsent(id: ID!, signature: String!): Consent!
    rejectConsent(id: ID!, reason: String): Consent!
    grantConsent(consent: SignedConsentInput!): Consent!
    pauseConsent(id: ID!, reason: String): Consent!
    resumeConsent(id: ID!, reason: String): Consent!
    revokeConsent(id: ID!, reason: String): Consent!
    registerEnterpriseKey(uscc: String!, publicKey: String!): KeyBinding!
    "A bank officer runs a joint query (usable but not visible) over up to 10,000 enterprises."
    runJointQuery(input: JointQueryInput!): JointJob!
    "A bank officer checks up to 10,000 enterprises against the centres' dishonest-debtor and serious-dishonesty lists, privately."
    checkLists(usccs: [String!]!, purpose: String!, centres: [String!]): ListCheckResult!
    "An operator (centre staff) clears the witness alarms about a member, lifting its quarantine; returns how many."
    clearFederationAlarms(node: String!): Int!
    "An enterprise has its commitment openings erased on every node: its entries stay in every log, unlinkable to it."
    eraseMyAccessOpenings: ErasureResult!
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
