/**
 * Story 4, audit of data usage (数据使用审计): an enterprise authorises a bank for sections held at
 * two nodes; the bank reads them, another bank is refused and logged on its own node; the
 * enterprise lists every use of its data on every node with proof bundles that the independent
 * verifier accepts under the roster's witness policy; an auditor lists a bank's reads by purpose
 * (enterprises only as commitments); the bank's signed, co-signed checkpoints and the consistency
 * between them check offline from files.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { draftConsent, signConsent } from '../../../authz/index.ts';
import { CLI } from '../../federation/launcher.ts';
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
  waitFor,
} from './kit.ts';

const PROFILE = `query($u: String!) { enterprise(uscc: $u, purpose: "loan-application") {
  registration { name } tax { payload } servedBy { section node } } }`;
const CHECKPOINT = `{ accessLog { verifierKey latestCheckpoint { size note witnesses } } }`;
type Listed = { action: string; decision: string; principal: string; node: string; bundle: unknown };

const verify = (args: string[]) => spawnSync(process.execPath, [CLI, 'verify', ...args], { encoding: 'utf8' });

async function run(ctx: StoryContext) {
  const { say } = ctx;
  const centre = ctx.node('xm-centre');
  const bankA = ctx.node('bank-a');
  const firm = (await enterprisesOf(ctx.dir, 'xm-centre'))[0];
  const rep = as.rep(firm.uscc);
  const proofs = join(ctx.dir, 'proofs');
  await mkdir(proofs, { recursive: true });
  const roster = join(ctx.dir, 'roster.json');
  // The federation authority's key, as every node's config pins it: the verifier checks the roster with it.
  const config = JSON.parse(await readFile(join(ctx.dir, 'nodes/xm-centre/config.json'), 'utf8')) as {
    federation: { authorityKeys: string[] };
  };
  const authority = config.federation.authorityKeys.flatMap((k) => ['--authority', k]);
  const checkpoint = async () =>
    dataOf(await bankA.gql(CHECKPOINT, {}, as.auditor), 'checkpoint').accessLog as {
      verifierKey: string;
      latestCheckpoint: { size: number; note: string; witnesses: string[] } | null;
    };
  const old = await checkpoint();

  say(
    `1. Enterprise ${firm.uscc} authorises bank-a at the Xiamen centre for registration (held by xm-centre) and tax (held by xm-data); bank-a reads, bank-b tries without consent.`,
  );
  await bindKey(centre, firm);
  const granted = dataOf(
    await centre.gql(
      `mutation($c: SignedConsentInput!) { grantConsent(consent: $c) { id } }`,
      {
        c: signConsent(
          draftConsent({
            enterprise: firm.uscc,
            home: 'xm-centre',
            grantee: 'bank-a',
            scopes: ['registration', 'tax'],
          }),
          firm.seed,
        ),
      },
      rep,
    ),
    'grant',
  ).grantConsent as { id: string };
  await consentAt(bankA, granted.id, 'ACTIVE');
  const read = dataOf(await bankA.gql(PROFILE, { u: firm.uscc }, as.officer('bank-a')), 'bank-a read').enterprise as {
    servedBy: Array<{ section: string; node: string }>;
  };
  const servedBy = Object.fromEntries(read.servedBy.map((s) => [s.section, s.node]));
  check(
    servedBy.registration === 'xm-centre' && servedBy.tax === 'xm-data',
    `unexpected holders ${JSON.stringify(servedBy)}`,
  );
  const refused = await ctx.node('bank-b').gql(PROFILE, { u: firm.uscc }, as.officer('bank-b'));
  check(errorCode(refused) === 'CONSENT_REQUIRED' && !refused.data?.enterprise, 'bank-b was not refused');
  say(
    '   bank-a got registration←xm-centre and tax←xm-data; bank-b: CONSENT_REQUIRED, decided and logged at bank-b (the request never left it).',
  );

  say(
    '2. On the Xiamen centre the enterprise lists every use of its data on every node, with proofs the independent verifier accepts.',
  );
  const bundles: string[] = [];
  let last = 'no listing yet';
  await waitFor(
    () => `cosigned proofs of both accesses (last: ${last})`,
    async () => {
      const r = await centre.gql(
        `{ myAccessLog(first: 100) { nodes { node entries { action decision principal node bundle } } unavailable } }`,
        {},
        rep,
      );
      const nodes =
        (r.data?.myAccessLog as { nodes: Array<{ node: string; entries: Listed[] }> } | undefined)?.nodes ?? [];
      const allow = nodes
        .find((x) => x.node === 'bank-a')
        ?.entries.find((e) => e.action === 'PROFILE_READ' && e.decision === 'ALLOW');
      const deny = nodes
        .find((x) => x.node === 'bank-b')
        ?.entries.find((e) => e.decision === 'DENY' && e.principal === 'bank-b/officer-b1');
      last = r.errors?.[0]?.message ?? `allow ${!!allow}, deny ${!!deny}`;
      if (!allow || !deny) return false;
      bundles.length = 0;
      for (const [name, e] of [
        ['bank-a-read', allow],
        ['bank-b-refused', deny],
      ] as const) {
        const file = join(proofs, `${name}.json`);
        await writeFile(file, JSON.stringify(e.bundle, null, 2));
        const v = verify(['bundle', '--roster', roster, ...authority, file]);
        last = `${name}: ${v.stderr.trim() || v.stdout.trim()}`;
        if (v.status !== 0) return false;
        bundles.push(file);
      }
      return true;
    },
  );
  say(
    `   ALLOW in bank-a's log: credit-node verify bundle --roster roster.json --authority <authority key> ${bundles[0]} → ok`,
  );
  say(
    `   DENY in bank-b's log:  credit-node verify bundle --roster roster.json --authority <authority key> ${bundles[1]} → ok`,
  );

  say('3. An auditor lists bank-a’s reads by purpose; enterprises appear only as commitments.');
  const audit = dataOf(
    await bankA.gql(
      `{ auditEntries(filter: { bank: "bank-a", action: "PROFILE_READ", first: 500 }) { entries { purpose decision consentId } scanned } }`,
      {},
      as.auditor,
    ),
    'audit',
  ).auditEntries as { entries: Array<{ purpose: string | null; decision: string; consentId: string | null }> };
  const byPurpose = new Map<string, { ALLOW: number; DENY: number }>();
  for (const e of audit.entries) {
    const k = e.purpose ?? '(none)';
    const row = byPurpose.get(k) ?? { ALLOW: 0, DENY: 0 };
    row[e.decision as 'ALLOW' | 'DENY']++;
    byPurpose.set(k, row);
  }
  check(byPurpose.get('loan-application')?.ALLOW, 'the auditor does not see bank-a’s read');
  check(
    audit.entries.every((e) => e.consentId === null),
    'the auditor saw a consent id',
  );
  for (const [purpose, n] of byPurpose) say(`   ${purpose}: ${n.ALLOW} allowed, ${n.DENY} refused`);

  say(
    '4. bank-a’s checkpoints, signed and co-signed by the other nodes, check offline from files, and the newer one extends the older.',
  );
  const now = await waitFor('a co-signed checkpoint of bank-a after the read', async () => {
    const c = await checkpoint();
    return c.latestCheckpoint && c.latestCheckpoint.size > (old.latestCheckpoint?.size ?? 0) && c;
  });
  const files = {
    old: join(proofs, 'bank-a-checkpoint-old.txt'),
    new: join(proofs, 'bank-a-checkpoint.txt'),
    proof: join(proofs, 'bank-a-consistency.json'),
  };
  await writeFile(files.new, now.latestCheckpoint!.note);
  const vc = verify(['checkpoint', '--roster', roster, ...authority, files.new]);
  check(vc.status === 0, `verify checkpoint: ${vc.stderr || vc.stdout}`);
  say(
    `   credit-node verify checkpoint --roster roster.json --authority <authority key> ${files.new} → ok (size ${now.latestCheckpoint!.size}, ${now.latestCheckpoint!.witnesses.length} witnesses)`,
  );
  if (old.latestCheckpoint) {
    const size1 = old.latestCheckpoint.size;
    const size2 = now.latestCheckpoint!.size;
    const proof = dataOf(
      await bankA.gql(
        `query($a: Int!, $b: Int!) { consistencyProof(size1: $a, size2: $b) }`,
        { a: size1, b: size2 },
        as.auditor,
      ),
      'consistency proof',
    ).consistencyProof;
    await writeFile(files.old, old.latestCheckpoint.note);
    await writeFile(files.proof, JSON.stringify(proof));
    const vk = verify(['consistency', '--key', now.verifierKey, files.old, files.new, files.proof]);
    check(vk.status === 0, `verify consistency: ${vk.stderr || vk.stdout}`);
    say(
      `   credit-node verify consistency --key <bank-a> ${files.old} ${files.new} ${files.proof} → ok (${size1} → ${size2})`,
    );
  }
  return {
    pending: [],
    facts: { enterprise: firm.uscc, consentId: granted.id, bundles, servedBy, checkpoint: files.new },
  };
}

/** Story 4. */
export const auditStory: Story = {
  name: 'audit',
  title: 'Audit of data usage, with proofs anyone can check (数据使用审计)',
  run,
};
