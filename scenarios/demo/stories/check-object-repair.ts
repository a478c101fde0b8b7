/**
 * Story 5, check, object, repair (联合奖惩, 信用异议): the Xiamen finance bureau's subsidy system
 * checks its applicants at the Xiamen centre, which consults the Zhangzhou and Quanzhou centres;
 * a listed applicant is blocked, with the listing and the legal basis named, and the bureau
 * reports that it applied the measure. The enterprise objects to the listing; while the
 * objection is pending the check warns; the centre's staff accept it and withdraw the listing,
 * which leaves every node, and the next check passes. (Credit repair takes the same path after
 * the minimum publicity period: federation/objection.e2e.test.ts.)
 */
import { as, check, dataOf, factsOf, type Story, type StoryContext } from './kit.ts';

const CHECK = `mutation($u: [String!]!) { interceptCheck(matter: "FINANCE_SUBSIDY", usccs: $u) {
  checkId results { uscc decision reasons { factId subtype listName measureName action disputed legalBasis originNode node status } unavailable } centres unavailable } }`;
type Reason = {
  factId: string;
  subtype: string;
  listName: string;
  measureName: string;
  action: string;
  disputed: boolean;
  legalBasis: string;
  originNode: string;
  status: string;
};
type Result = { uscc: string; decision: string; reasons: Reason[]; unavailable: string[] };
type Check = { checkId: string; results: Result[]; centres: string[]; unavailable: string[] };
const LISTS = new Set(['ABNORMAL_LIST', 'SERIOUS_DISHONESTY', 'DISHONEST_DEBTOR']);

async function run(ctx: StoryContext) {
  const { say } = ctx;
  const centre = ctx.node('xm-centre');
  const gov = as.gov('xm-finance');
  const runCheck = async (usccs: string[]) =>
    dataOf(await centre.gql(CHECK, { u: usccs }, gov), 'the check').interceptCheck as Check;

  // Applicants of this subsidy round: enterprises listed by the Xiamen centre in the demo data.
  const listed = [
    ...new Set(
      (await factsOf(ctx.dir, 'xm-centre')).filter((f) => LISTS.has(String(f.subtype))).map((f) => String(f.uscc)),
    ),
  ];
  say(
    `1. The Xiamen finance bureau screens ${listed.length} subsidy applicants at the Xiamen centre (which asks the Zhangzhou and Quanzhou centres too).`,
  );
  const screening = await runCheck(listed.slice(0, 500));
  const counts: Record<string, number> = {};
  for (const r of screening.results) counts[r.decision] = (counts[r.decision] ?? 0) + 1;
  say(
    `   ${Object.entries(counts)
      .map(([d, k]) => `${k} ${d}`)
      .join(', ')}; centres consulted: ${screening.centres.join(', ')}.`,
  );
  // One blocked only by Xiamen listings not yet disputed (each run takes the next one).
  const blocked = screening.results.find(
    (r) =>
      r.decision === 'BLOCK' &&
      r.reasons.every((x) => x.originNode === 'xm-centre' && !x.disputed && LISTS.has(x.subtype)),
  );
  check(blocked, 'no applicant of the demo data is left that only Xiamen listings block');
  const factIds = [...new Set(blocked.reasons.map((x) => x.factId))];
  for (const x of blocked.reasons)
    say(
      `   ${blocked.uscc}: ${x.action} — ${x.listName}: ${x.measureName} (${x.legalBasis}); listing ${x.factId} by ${x.originNode}.`,
    );
  dataOf(
    await centre.gql(
      `mutation($id: ID!, $u: String!) { interceptFeedback(checkId: $id, items: [{ uscc: $u, outcome: APPLIED }]) { accepted } }`,
      { id: screening.checkId, u: blocked.uscc },
      gov,
    ),
    'feedback',
  );
  say('   the bureau reports that it applied the measure (interceptFeedback: APPLIED).');

  say(
    `2. The enterprise disputes ${factIds.length === 1 ? 'the listing' : `the ${factIds.length} listings`} at the Xiamen centre: DISPUTED on every node at once, and the check now warns.`,
  );
  const rep = as.rep(blocked.uscc);
  const objections: Array<{ id: string; deadline: string; originNode: string }> = [];
  for (const factId of factIds)
    objections.push(
      dataOf(
        await centre.gql(
          `mutation($f: String!) { fileObjection(factId: $f, reason: "该记录与事实不符，已提交证明材料 (the record is wrong; evidence attached)", evidence: ["证明材料"]) { id status deadline originNode } }`,
          { f: factId },
          rep,
        ),
        'objection',
      ).fileObjection as { id: string; deadline: string; originNode: string },
    );
  const during = (await runCheck([blocked.uscc])).results[0];
  check(
    during.decision === 'WARN' && during.reasons.every((x) => x.disputed),
    `while disputed the check says ${during.decision}`,
  );
  say(
    `   ${objections.length} objection(s) to be decided by ${objections[0].originNode} by ${objections[0].deadline}; check: WARN (listing under objection).`,
  );

  say('3. The centre’s staff verify, accept and withdraw; the next check passes.');
  for (const o of objections) {
    const decided = dataOf(
      await centre.gql(
        `mutation($id: ID!) { decideObjection(id: $id, outcome: ACCEPT, resolution: WITHDRAW, reasons: "经核实原记录有误，予以撤销 (verified: recorded in error, withdrawn)") { status } }`,
        { id: o.id },
        as.staff,
      ),
      'decision',
    ).decideObjection as { status: string };
    check(decided.status === 'ACCEPTED', `the objection is ${decided.status}`);
  }
  const after = (await runCheck([blocked.uscc])).results[0];
  check(after.decision === 'PASS', `after the withdrawal the check says ${after.decision}`);
  const mine = dataOf(await centre.gql(`{ myObjections { id status } }`, {}, rep), 'the enterprise’s view')
    .myObjections as Array<{ id: string; status: string }>;
  check(
    objections.every((o) => mine.find((m) => m.id === o.id)?.status === 'ACCEPTED'),
    'the enterprise does not see the decision',
  );
  say(
    '   ACCEPTED and WITHDRAWN (CORRECTED on every node: out of grades and checks); check: PASS; the enterprise sees the decisions.',
  );
  return {
    pending: [],
    facts: {
      enterprise: blocked.uscc,
      factIds,
      objections: objections.map((o) => o.id),
      decisions: ['BLOCK', 'WARN', 'PASS'],
    },
  };
}

/** Story 5. */
export const checkObjectRepairStory: Story = {
  name: 'check-object-repair',
  title: 'Check, object, repair: a subsidy check blocks, an objection lets the next check pass (联合奖惩·信用异议)',
  run,
};
