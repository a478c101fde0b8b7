/**
 * Story 3, authorisation by enterprises (企业授权): an enterprise signed in at the easy-loan platform
 * grants a bank a consent, reviews its consents there, pauses, resumes and revokes it; each change
 * is made at the consent's home only and reaches every node that holds the consent within seconds,
 * and the bank's next request fails on its own node (the request never leaves it) and in the joint
 * queries.
 */
import { draftConsent, signConsent } from '../../../authz/index.ts';
import {
  as,
  bindKey,
  check,
  consentAt,
  dataOf,
  enterprisesOf,
  errorCode,
  type Story,
  type StoryContext,
} from './kit.ts';

const PROFILE = `query($u: String!) { enterprise(uscc: $u, purpose: "loan-application") {
  registration { name } tax { id } servedBy { section node } } }`;
const SCORE = `mutation($u: [String!]!) { runJointQuery(input: { kind: SCORE, usccs: $u, purpose: "loan-application" }) { result { rows { status reason score } } } }`;
const HOLDERS = ['xm-centre', 'zz-centre', 'qz-centre', 'xm-data', 'easy-loan', 'bank-b'];

async function run(ctx: StoryContext) {
  const { say } = ctx;
  const platform = ctx.node('easy-loan');
  const bank = ctx.node('bank-b');
  const officer = as.officer('bank-b');
  const firm = (await enterprisesOf(ctx.dir, 'xm-centre'))[3];
  const rep = as.rep(firm.uscc);
  const read = () => bank.gql(PROFILE, { u: firm.uscc }, officer);
  const score = async () =>
    (
      (await bank.gql(SCORE, { u: [firm.uscc] }, officer)).data?.runJointQuery as
        | { result: { rows: Array<{ status: string; reason: string | null; score: number | null }> } }
        | undefined
    )?.result.rows[0];
  const everywhere = async (status: string) => {
    for (const id of HOLDERS) await consentAt(ctx.node(id), consentId, status);
  };

  say(
    `1. Enterprise ${firm.uscc} signs in at the easy-loan platform and grants bank-b a consent: registration, tax and the joint score, 30 days.`,
  );
  await bindKey(ctx.node('xm-centre'), firm, [platform]);
  const body = draftConsent({
    enterprise: firm.uscc,
    home: 'easy-loan',
    grantee: 'bank-b',
    scopes: ['registration', 'tax', 'joint:score'],
  });
  const granted = dataOf(
    await platform.gql(
      `mutation($c: SignedConsentInput!) { grantConsent(consent: $c) { id status } }`,
      { c: signConsent(body, firm.seed) },
      rep,
    ),
    'grant',
  ).grantConsent as { id: string };
  const consentId = granted.id;
  await everywhere('ACTIVE');
  const first = await read();
  const p = dataOf(first, 'bank-b read').enterprise as { servedBy: Array<{ section: string; node: string }> };
  const s1 = await score();
  check(s1?.status === 'OK', `score refused: ${s1?.reason}`);
  say(
    `   consent ${consentId.slice(0, 12)}… ACTIVE on the ${HOLDERS.length} nodes that hold it; bank-b reads ${p.servedBy.map((x) => `${x.section}←${x.node}`).join(', ')} and computes score ${s1.score}.`,
  );

  say('2. The enterprise reviews its consents on the platform.');
  const list = dataOf(
    await platform.gql(
      `{ consents(first: 20) { id grantee scopes purpose status expiresAt history { to by node } } }`,
      {},
      rep,
    ),
    'review',
  ).consents as Array<{
    id: string;
    grantee: string;
    scopes: string[];
    status: string;
    history: Array<{ to: string }>;
  }>;
  for (const c of list.slice(0, 5))
    say(
      `   ${c.id.slice(0, 12)}… → ${c.grantee}: ${c.scopes.join(', ')} — ${c.status} (${c.history.map((h) => h.to).join(' → ')})`,
    );

  say(
    '3. It pauses the consent. Only its home changes it: the same request at the Xiamen centre is refused with WRONG_NODE.',
  );
  const elsewhere = await ctx
    .node('xm-centre')
    .gql(`mutation($id: ID!) { pauseConsent(id: $id) { status } }`, { id: consentId }, rep);
  check(errorCode(elsewhere) === 'WRONG_NODE', `pausing away from the home gave ${errorCode(elsewhere)}`);
  dataOf(
    await platform.gql(
      `mutation($id: ID!) { pauseConsent(id: $id, reason: "reviewing the bank's terms") { status } }`,
      { id: consentId },
      rep,
    ),
    'pause',
  );
  await everywhere('PAUSED');
  const paused = await read();
  const s2 = await score();
  check(errorCode(paused) === 'CONSENT_REQUIRED' && s2?.status === 'REFUSED', 'bank-b was not refused while paused');
  say(
    `   PAUSED on every holder; bank-b's read: CONSENT_REQUIRED (${paused.errors?.[0]?.extensions?.reason}), its joint score: REFUSED.`,
  );

  say('4. It resumes: bank-b reads again.');
  dataOf(
    await platform.gql(`mutation($id: ID!) { resumeConsent(id: $id) { status } }`, { id: consentId }, rep),
    'resume',
  );
  await everywhere('ACTIVE');
  dataOf(await read(), 'read after resumption');
  say('   ACTIVE everywhere; the read succeeds.');

  say('5. It revokes: final on every node; bank-b’s next requests fail, and no one can bring the consent back.');
  dataOf(
    await platform.gql(
      `mutation($id: ID!) { revokeConsent(id: $id, reason: "chose another bank") { status } }`,
      { id: consentId },
      rep,
    ),
    'revoke',
  );
  await everywhere('REVOKED');
  const after = await read();
  const s3 = await score();
  check(
    errorCode(after) === 'CONSENT_REQUIRED' && s3?.status === 'REFUSED',
    'bank-b was not refused after the revocation',
  );
  const back = await platform.gql(`mutation($id: ID!) { resumeConsent(id: $id) { status } }`, { id: consentId }, rep);
  check(errorCode(back) === 'CONFLICT', 'a revoked consent was resumed');
  say(
    `   REVOKED on every holder; read: CONSENT_REQUIRED (${after.errors?.[0]?.extensions?.reason}); score: REFUSED; resuming: CONFLICT.`,
  );
  return { pending: [], facts: { enterprise: firm.uscc, consentId, holders: HOLDERS } };
}

/** Story 3. */
export const authorisationStory: Story = {
  name: 'authorisation',
  title: 'Authorisation by enterprises: review, pause, resume, revoke (企业授权)',
  run,
};
