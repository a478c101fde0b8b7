/** `credit-node verify`: checks access-log artefacts and signed credit reports from files alone. */
import { readFile } from 'node:fs/promises';
import {
  VerificationError,
  verifyBundle,
  verifyCheckpointNote,
  verifyConsistencyFiles,
} from '../../../accesslog/verify.ts';
import { verifyReport } from '../../../authz/index.ts';
import { type Command, parse, UsageError } from '../args.ts';

const usage = `usage: credit-node verify checkpoint --key VKEY|--key-file FILE CHECKPOINT
       credit-node verify bundle [--key VKEY|--key-file FILE] BUNDLE.json
       credit-node verify consistency --key VKEY|--key-file FILE OLD_CHECKPOINT NEW_CHECKPOINT PROOF.json
       credit-node verify report --key PUBLIC_KEY REPORT.json

VKEY is the log's verifier key (c2sp.org/signed-note: name+keyid+base64 key), published by the
node at its /graphql API (accessLog.verifierKey) and in the roster. A CHECKPOINT is a C2SP signed
note; a BUNDLE is what an enterprise downloads for one entry (accessLog entry bundle); a PROOF is a
JSON array of base64 hashes. A REPORT is the { document, signature, signedBy } of a credit report, checked
against the issuing node's base64 Ed25519 key (its roster signing key). Prints a JSON result; on failure
prints what failed and exits 1.`;

const command: Command = {
  summary: 'Verify checkpoints, inclusion proofs and consistency proofs offline.',
  usage,
  async run(argv) {
    const [what, ...rest] = argv;
    const { values, positionals } = parse(rest, { key: { type: 'string' }, 'key-file': { type: 'string' } }, true);
    const read = (p: string) =>
      readFile(p, 'utf8').catch((err) => {
        throw new UsageError(`cannot read ${p}: ${(err as NodeJS.ErrnoException).code}`);
      });
    const vkey = values.key ?? (values['key-file'] ? (await read(values['key-file'])).trim() : undefined);
    const json = async (p: string) => {
      try {
        return JSON.parse(await read(p));
      } catch (err) {
        if (err instanceof UsageError) throw err;
        throw new VerificationError(`${p}: not valid JSON`);
      }
    };
    try {
      let result: unknown;
      if (what === 'checkpoint') {
        if (!vkey || positionals.length !== 1) throw new UsageError('verify checkpoint needs --key and one CHECKPOINT');
        result = verifyCheckpointNote(await read(positionals[0]), vkey);
      } else if (what === 'bundle') {
        if (positionals.length !== 1) throw new UsageError('verify bundle needs one BUNDLE');
        result = verifyBundle(await json(positionals[0]), vkey);
      } else if (what === 'consistency') {
        if (!vkey || positionals.length !== 3)
          throw new UsageError('verify consistency needs --key, two checkpoints and a proof');
        result = verifyConsistencyFiles(
          await read(positionals[0]),
          await read(positionals[1]),
          await json(positionals[2]),
          vkey,
        );
      } else if (what === 'report') {
        if (!vkey || positionals.length !== 1)
          throw new UsageError("verify report needs --key (the issuing node's base64 public key) and one REPORT");
        const report = await json(positionals[0]);
        if (!verifyReport(report, vkey))
          throw new VerificationError(
            'report: the signature does not verify with this key (report altered or issued by another node)',
          );
        const doc = JSON.parse(report.document);
        result = {
          reportId: doc.reportId,
          issuer: doc.issuer,
          uscc: doc.uscc,
          generatedAt: doc.generatedAt,
          sections: doc.sections,
        };
      } else throw new UsageError(`unknown verify target "${what ?? ''}"`);
      console.log(JSON.stringify({ ok: true, ...(result as object) }, null, 2));
      return 0;
    } catch (err) {
      if (err instanceof VerificationError) {
        console.log(JSON.stringify({ ok: false, failed: err.message }));
        console.error(`FAILED: ${err.message}`);
        return 1;
      }
      throw err;
    }
  },
};

export default command;
