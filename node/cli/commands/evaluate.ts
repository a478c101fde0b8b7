/**
 * `credit-node evaluate`: a city centre grades the enterprises domiciled in its city (公共信用综合
 * 评价), all of them or one. On a stopped node it opens the node's database itself; while the node
 * runs (its database locked) it asks the node's own API (`runEvaluation`, as centre staff), so that
 * new grades reach the centres that recognised earlier ones.
 */
import { join } from 'node:path';
import { AccessLogUnavailableError } from '../../../accesslog/port.ts';
import { ed25519Signer } from '../../../crypto/index.ts';
import { createEvaluationService, type EvaluationRunSummary } from '../../../evaluation/index.ts';
import { validateUscc } from '../../../model/index.ts';
import { createProfileStore } from '../../../profiles/index.ts';
import { DatabaseLockedError, openDatabase } from '../../../storage/index.ts';
import { loadConfig, type NodeConfig } from '../../config.ts';
import { KEY_FILE, loadOrCreateKeys, type NodeKeys } from '../../keystore.ts';
import { silentLogger } from '../../logger.ts';
import { nodeTokenService } from '../../tokens.ts';
import { type Command, parse, UsageError } from '../args.ts';
import { passphraseFrom } from './init.ts';

const usage = `usage: credit-node evaluate --config FILE [--uscc USCC] [--force] [--json] [--passphrase-env VAR]

Grades every enterprise domiciled in the node's city whose inputs changed since its last grade
(--force: every one), or re-grades one (--uscc), with the city's scheme; each grade is kept with its
explanation and history and issued as a signed attestation. The node must be a credit centre or a
city peer with a city. Prints how many were graded and the grades (JSON with --json).`;

const command: Command = {
  summary: 'Grade the enterprises of a city centre (public credit comprehensive evaluation).',
  usage,
  async run(argv) {
    const { values } = parse(argv, {
      config: { type: 'string' },
      uscc: { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
      'passphrase-env': { type: 'string' },
    });
    if (!values.config) throw new UsageError('--config is required');
    if (values.uscc !== undefined && !validateUscc(values.uscc).valid)
      throw new UsageError('--uscc is not a valid USCC');
    const config = await loadConfig(values.config);
    if (!config.city || (config.role !== 'credit-centre' && config.role !== 'city-peer'))
      throw new UsageError('evaluation runs on a credit centre or a city peer with a city');
    const keys = await loadOrCreateKeys(join(config.dataDir, KEY_FILE), {
      passphrase: passphraseFrom(values['passphrase-env']),
    });
    let summary: EvaluationRunSummary;
    try {
      summary = await direct(config, keys, values.uscc, values.force === true);
    } catch (err) {
      if (!(err instanceof DatabaseLockedError)) throw err;
      if (values.force) throw new UsageError('--force needs the node stopped (its database is in use)');
      summary = await throughApi(config, keys, values.uscc);
    }
    if (values.json) console.log(JSON.stringify(summary));
    else
      console.log(
        `${summary.enterprises} enterprise(s): ${summary.graded} graded, ${summary.unchanged} unchanged in ${summary.ms} ms; ` +
          `grades ${Object.entries(summary.grades)
            .map(([g, n]) => `${g} ${n}`)
            .join(', ')}`,
      );
    return 0;
  },
};

/** Grades on the node's database, the node stopped. */
async function direct(config: NodeConfig, keys: NodeKeys, uscc: string | undefined, force: boolean) {
  const db = await openDatabase(join(config.dataDir, 'db'));
  try {
    const profiles = createProfileStore({ db });
    const service = createEvaluationService({
      db,
      profiles,
      // Grading reads no one's data for anyone: nothing is logged, and an attempt would fail closed.
      log: { append: () => Promise.reject(new AccessLogUnavailableError('no access log in offline evaluation')) },
      signer: ed25519Signer(keys.identity.seed),
      nodeId: config.nodeId,
      role: config.role,
      city: config.city!,
      logger: silentLogger(),
    });
    if (uscc === undefined) return await service.evaluateAll({ force });
    return await service.run({ sub: 'operator:cli', role: 'centre-staff' }, uscc);
  } finally {
    await db.close();
  }
}

/** Asks the running node's API. */
async function throughApi(config: NodeConfig, keys: NodeKeys, uscc: string | undefined) {
  const token = nodeTokenService(config, keys).issue({ sub: 'operator:cli', role: 'centre-staff' }, 600);
  const host = config.api.host.includes(':') ? `[${config.api.host}]` : config.api.host;
  const res = await fetch(`http://${host}:${config.api.port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: 'mutation($u: String) { runEvaluation(uscc: $u) { enterprises graded unchanged grades ms } }',
      variables: { u: uscc ?? null },
    }),
    signal: AbortSignal.timeout(60 * 60_000),
  }).catch((err: Error) => {
    throw new UsageError(`the database is in use and the node's API did not answer (${err.message})`);
  });
  const body = (await res.json()) as {
    data?: { runEvaluation?: EvaluationRunSummary };
    errors?: Array<{ message: string }>;
  };
  if (body.errors?.length || !body.data?.runEvaluation)
    throw new UsageError(`evaluation refused: ${body.errors?.[0]?.message ?? 'no result'}`);
  return body.data.runEvaluation;
}

export default command;
