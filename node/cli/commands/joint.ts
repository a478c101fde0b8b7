/**
 * `credit-node joint`: a bank officer runs a joint query (cross-bank exposure or the multi-source
 * score) through the bank node's own API, for enterprises named on the command line or in a file
 * (one USCC per line), and prints what a loan officer reads: per enterprise, the totals at the
 * other banks or the score, and which contributors took part.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../config.ts';
import { KEY_FILE, loadOrCreateKeys } from '../../keystore.ts';
import { nodeTokenService } from '../../tokens.ts';
import { type Command, parse, UsageError } from '../args.ts';
import { passphraseFrom } from './init.ts';

const usage = `usage: credit-node joint --config BANK_NODE.json --kind exposure|score --officer ID
                         [--purpose loan-application] (--uscc USCC ... | --file USCCS.txt) [--json]
                         [--passphrase-env VAR]

Runs a joint query (usable but not visible) through the running bank node's API: up to 10,000
enterprises, each needing a consent that covers joint:exposure or joint:score for this bank.
Prints a table (or JSON with --json) and exits 1 if the query could not run.`;

const QUERY = `mutation($input: JointQueryInput!) {
  runJointQuery(input: $input) {
    status error done total
    result { kind contributors dropped model queryIds
      rows { uscc status reason outstandingYuan overdueYuan lenders score without }
      provenance { node queryId } }
  }
}`;

const command: Command = {
  summary: 'Run a joint query (cross-bank exposure or multi-source score) as a bank officer.',
  usage,
  async run(argv) {
    const { values } = parse(argv, {
      config: { type: 'string' },
      kind: { type: 'string' },
      officer: { type: 'string' },
      purpose: { type: 'string' },
      uscc: { type: 'string', multiple: true },
      file: { type: 'string' },
      json: { type: 'boolean' },
      'passphrase-env': { type: 'string' },
    });
    if (!values.config || !values.kind || !values.officer)
      throw new UsageError('--config, --kind and --officer are required');
    if (values.kind !== 'exposure' && values.kind !== 'score') throw new UsageError('--kind must be exposure or score');
    const usccs = [...(values.uscc ?? [])];
    if (values.file)
      usccs.push(
        ...(await readFile(values.file, 'utf8'))
          .split(/\r?\n/)
          .map((l) => l.trim())
          .filter(Boolean),
      );
    if (usccs.length === 0 || usccs.length > 10_000) throw new UsageError('name 1 to 10,000 enterprises');
    const config = await loadConfig(values.config);
    const keys = await loadOrCreateKeys(join(config.dataDir, KEY_FILE), {
      passphrase: passphraseFrom(values['passphrase-env']),
    });
    const token = nodeTokenService(config, keys).issue(
      { sub: values.officer, role: 'bank-officer', bank: config.nodeId },
      3600,
    );
    const host = config.api.host.includes(':') ? `[${config.api.host}]` : config.api.host;
    const res = await fetch(`http://${host}:${config.api.port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: QUERY,
        variables: {
          input: { kind: values.kind.toUpperCase(), usccs, purpose: values.purpose ?? 'loan-application', wait: true },
        },
      }),
      signal: AbortSignal.timeout(30 * 60_000),
    }).catch((err: Error) => {
      throw new UsageError(`the node's API did not answer (${err.message}); is it running?`);
    });
    const body = (await res.json()) as {
      data?: { runJointQuery?: { status: string; error?: string; result?: JointResultView } };
      errors?: Array<{ message: string }>;
    };
    const job = body.data?.runJointQuery;
    if (body.errors?.length || !job || job.status !== 'DONE' || !job.result) {
      console.error(`joint query failed: ${body.errors?.[0]?.message ?? job?.error ?? 'no result'}`);
      return 1;
    }
    if (values.json) console.log(JSON.stringify(job.result, null, 2));
    else print(job.result);
    return 0;
  },
};

interface JointResultView {
  kind: string;
  contributors: string[];
  dropped: string[];
  model?: string | null;
  rows: Array<Record<string, unknown> & { uscc: string; status: string }>;
}

function print(r: JointResultView) {
  console.log(
    `${r.kind}${r.model ? ` (${r.model})` : ''} — contributors: ${r.contributors.join(', ') || 'none'}${
      r.dropped.length ? `; dropped: ${r.dropped.join(', ')}` : ''
    }`,
  );
  for (const row of r.rows) {
    const figures =
      row.status !== 'OK'
        ? `${row.status} ${row.reason ?? ''}`
        : r.kind === 'exposure'
          ? `outstanding ${row.outstandingYuan} yuan, overdue ${row.overdueYuan} yuan, ${row.lenders} other lender(s)`
          : `score ${row.score}`;
    const without = Array.isArray(row.without) && row.without.length ? ` (without ${row.without.join(', ')})` : '';
    console.log(`${row.uscc}  ${figures}${without}`);
  }
}

export default command;
