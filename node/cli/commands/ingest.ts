/** `credit-node ingest`: loads files, SQLite tables or HTTP APIs into a node's database. */
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import { createIngester, DEFAULT_BATCH_SIZE, openSource } from '../../../connectors/index.ts';
import { idNumberTokenizer } from '../../../connectors/produce.ts';
import { createProfileStore } from '../../../profiles/index.ts';
import { openDatabase } from '../../../storage/index.ts';
import { loadConfig } from '../../config.ts';
import { KEY_FILE, loadOrCreateKeys } from '../../keystore.ts';
import { createLogger, silentLogger } from '../../logger.ts';
import { type Command, intFlag, parse, UsageError } from '../args.ts';
import { passphraseFrom } from './init.ts';

const usage = `usage: credit-node ingest --data-dir DIR [--json] [--progress-json] [--batch-size N] [--node-id ID]
       [--passphrase-env VAR] SOURCE...

SOURCE is a file (.ndjson/.jsonl, .csv, .json), sqlite:/path/db.sqlite?table=NAME[&kind=K], or an
http(s):// URL of a paginated JSON API. The record kind comes from a row's "kind" field or the
source name (enterprises*, facts*, loans*). Rows are validated, cleaned and de-duplicated; valid
rows are written in atomic batches; re-running is idempotent and only takes new or changed rows.
The node must not be running (its database is locked while it runs).

--json prints one JSON report on stdout. The exit status is non-zero only when the run itself
fails (an unreadable source, a locked database), never because rows were rejected.

--progress-json prints one JSON line on stderr for each batch once it is written, e.g.
{"batch":3,"source":"/data/facts.ndjson","records":2000,"accepted":5821}: whatever a line reports
is in the database, even if the run is then killed (run it again and it resumes). It replaces the
progress bar.
--batch-size sets the records per atomic batch (default ${DEFAULT_BATCH_SIZE}).`;

const command: Command = {
  summary: 'Ingest data into a node database.',
  usage,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      {
        'data-dir': { type: 'string' },
        json: { type: 'boolean' },
        'progress-json': { type: 'boolean' },
        'batch-size': { type: 'string' },
        'node-id': { type: 'string' },
        'passphrase-env': { type: 'string' },
      },
      true,
    );
    if (!values['data-dir']) throw new UsageError('--data-dir is required');
    if (positionals.length === 0) throw new UsageError('at least one SOURCE is required');
    const batchSize = intFlag('batch-size', values['batch-size'], 1, 1_000_000);
    const progressJson = values['progress-json'] === true;
    const dataDir = resolve(values['data-dir']);
    const configPath = join(dataDir, 'config.json');
    const config = await access(configPath).then(
      () => loadConfig(configPath),
      () => undefined,
    );
    const originNode = values['node-id'] ?? config?.nodeId ?? 'local';
    const sources = positionals.map((s) => openSource(s));
    const keys = await loadOrCreateKeys(join(config?.dataDir ?? dataDir, KEY_FILE), {
      passphrase: passphraseFrom(values['passphrase-env']),
    });
    const db = await openDatabase(join(config?.dataDir ?? dataDir, 'db'));
    const logger = values.json ? silentLogger() : createLogger({ level: 'warn', name: 'ingest' });
    const tokenise = idNumberTokenizer(keys.commitmentKey);
    const bar =
      !values.json && !progressJson && process.stderr.isTTY
        ? new SingleBar({
            stream: process.stderr,
            format: ' {bar} {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted} | {source}',
            hideCursor: true,
          })
        : undefined;
    const started = performance.now();
    let barStarted = false;
    try {
      const ingester = createIngester({
        db,
        profiles: createProfileStore({ db }),
        tokenise,

        originNode,
        logger,
      });
      const report = await ingester.run(sources, {
        batchSize,
        onBatch: progressJson ? (b) => process.stderr.write(`${JSON.stringify(b)}\n`) : undefined,
        onProgress: ({ rows, source, sourceIndex, sources: n, done, total }) => {
          if (!bar) return;
          const frac = total ? (sourceIndex + Math.min(1, done / total)) / n : sourceIndex / n;
          const rate = Math.round(rows / ((performance.now() - started) / 1000));
          const payload = { rows, rate, source: source.id.split('/').pop() };
          if (!barStarted) {
            bar.start(1000, Math.round(frac * 1000), payload);
            barStarted = true;
          } else bar.update(Math.round(frac * 1000), payload);
        },
      });
      bar?.stop();
      if (values.json) console.log(JSON.stringify(report));
      else {
        const { rejections, ...summary } = report;
        console.log(JSON.stringify(summary, null, 2));
        for (const r of rejections.slice(0, 20))
          console.log(`rejected ${r.source}:${r.rowNumber} ${r.field} ${r.rule}: ${r.message}`);
        if (report.rejected > 20) console.log(`… ${report.rejected - 20} more rejected rows (use --json for the list)`);
      }
      return 0;
    } finally {
      bar?.stop();
      await db.close();
    }
  },
};

export default command;
