/** `credit-node verify`: checks access-log artefacts and signed credit reports from files alone. */
import { readFile } from 'node:fs/promises';
import {
  checkpointOrigin,
  defaultWitnessQuorum,
  parseWitnessKey,
  rosterWitnessPolicy,
  VerificationError,
  verifyBundle,
  verifyCheckpointNote,
  verifyConsistencyFiles,
  type WitnessPolicy,
} from '../../../accesslog/verify.ts';
import { verifyReport } from '../../../authz/index.ts';
import { describeAttestation, verifyAttestation } from '../../../evaluation/attestation.ts';
import { RosterError, verifyRoster } from '../../../federation/roster.ts';
import { type Command, intFlag, parse, UsageError } from '../args.ts';

const usage = `usage: credit-node verify checkpoint --key VKEY|--key-file FILE|--roster ROSTER.json [WITNESS POLICY] CHECKPOINT
       credit-node verify bundle [--key VKEY|--key-file FILE] [WITNESS POLICY] BUNDLE.json
       credit-node verify consistency --key VKEY|--key-file FILE OLD_CHECKPOINT NEW_CHECKPOINT PROOF.json
       credit-node verify report --key PUBLIC_KEY REPORT.json
       credit-node verify attestation --key PUBLIC_KEY ATTESTATION.json

WITNESS POLICY: [--roster ROSTER.json [--authority KEY]... [--authority-threshold N]]
                [--witness WVKEY]... [--min-witnesses N]

VKEY is the log's verifier key (c2sp.org/signed-note: name+keyid+base64 key), published by the
node at its /graphql API (accessLog.verifierKey) and in the roster. A CHECKPOINT is a C2SP signed
note; a BUNDLE is what an enterprise downloads for one entry (accessLog entry bundle); a PROOF is a
JSON array of base64 hashes. A REPORT is the { document, signature, signedBy } of a credit report, checked
against the issuing node's base64 Ed25519 key (its roster signing key). An ATTESTATION is the { document,
signature, signedBy } of an evaluation grade, checked against the evaluator node's base64 key (its roster
signing key); "inForce": false says it is past its validUntil. Prints a JSON result; on failure prints what
failed and exits 1.

The witness policy says whose cosignatures (c2sp.org/tlog-cosignature lines after the log's
signature) count and how many a checkpoint needs. --roster takes the federation roster: every
member other than the log's node is a witness, and the roster also pins the log's own key.
--witness adds a witness cosigner key (WVKEY, type 0x04: name+keyid+base64(0x04 || key)); repeat
it for several. --min-witnesses defaults to a majority of those witnesses (with --roster: of the
roster's members other than the log's node). --authority gives the federation authority's base64
Ed25519 key (federation.authorityKeys in a node's config; repeat for several): the roster must then
carry valid signatures of at least --authority-threshold of them (default 1), or verification fails;
without --authority the roster is taken as given (a warning says so). A checkpoint with fewer valid cosignatures fails,
naming how many it found and needed. Without a policy only the log's own signature is checked,
and a bundle from a forked log would pass (a warning says so).`;

const command: Command = {
  summary: 'Verify checkpoints (with their witnesses), inclusion proofs and consistency proofs offline.',
  usage,
  async run(argv) {
    const [what, ...rest] = argv;
    const { values, positionals } = parse(
      rest,
      {
        key: { type: 'string' },
        'key-file': { type: 'string' },
        roster: { type: 'string' },
        witness: { type: 'string', multiple: true },
        'min-witnesses': { type: 'string' },
        authority: { type: 'string', multiple: true },
        'authority-threshold': { type: 'string' },
      },
      true,
    );
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
    const minWitnesses = intFlag('min-witnesses', values['min-witnesses'], 0, 1000);
    const witnessFlags = values.witness ?? [];
    const hasPolicy = values.roster !== undefined || witnessFlags.length > 0;
    const authorities = values.authority ?? [];
    const authorityThreshold = intFlag('authority-threshold', values['authority-threshold'], 1, 100);
    if (values.roster === undefined && (authorities.length > 0 || authorityThreshold !== undefined))
      throw new UsageError('--authority and --authority-threshold need --roster');
    if (authorityThreshold !== undefined && authorityThreshold > authorities.length)
      throw new UsageError('--authority-threshold is more than the --authority keys given');
    /** The roster file, checked against the authority keys when given. */
    const rosterInput = async (path: string) => {
      const input = await json(path);
      if (authorities.length === 0) {
        console.error(
          "warning: the roster's authority signatures were not checked (--authority): it is trusted as given",
        );
        return input;
      }
      try {
        verifyRoster(input, { authorityKeys: authorities, threshold: authorityThreshold ?? 1 });
      } catch (err) {
        if (err instanceof RosterError) throw new VerificationError(`roster: ${err.message}`);
        throw err;
      }
      return input;
    };
    if (!hasPolicy && minWitnesses !== undefined) throw new UsageError('--min-witnesses needs --roster or --witness');
    /** The witness policy for a log of `origin`, and the log key the roster pins. */
    const policyFor = async (origin: string | undefined): Promise<{ policy?: WitnessPolicy; rosterKey?: string }> => {
      if (!hasPolicy) return {};
      const extra = witnessFlags.map(parseWitnessKey);
      if (values.roster === undefined)
        return {
          policy: { witnesses: extra, minWitnesses: minWitnesses ?? defaultWitnessQuorum(extra.length) },
        };
      if (!origin) throw new VerificationError('checkpoint: no origin line');
      const { policy, logKey } = rosterWitnessPolicy(await rosterInput(values.roster), origin, minWitnesses);
      const known = new Set(policy.witnesses.map((w) => `${w.name}+${Buffer.from(w.keyId).toString('hex')}`));
      for (const w of extra)
        if (!known.has(`${w.name}+${Buffer.from(w.keyId).toString('hex')}`)) policy.witnesses.push(w);
      return { policy, rosterKey: logKey };
    };
    /** The log key: the one given, else the roster's; both given must agree. */
    const logKeyOf = (rosterKey: string | undefined) => {
      if (vkey && rosterKey && vkey.trim() !== rosterKey)
        throw new VerificationError('log key: the key given is not the one the roster gives the log');
      return vkey ?? rosterKey;
    };
    const warnUnwitnessed = () => {
      if (!hasPolicy)
        console.error(
          'warning: no witness policy (--roster or --witness): only the log signature was checked; a forked log would pass',
        );
    };
    try {
      let result: unknown;
      if (what === 'checkpoint') {
        if (positionals.length !== 1) throw new UsageError('verify checkpoint needs one CHECKPOINT');
        const note = await read(positionals[0]);
        const { policy, rosterKey } = await policyFor(checkpointOrigin(note));
        const key = logKeyOf(rosterKey);
        if (!key) throw new UsageError('verify checkpoint needs --key, --key-file or --roster');
        result = verifyCheckpointNote(note, key, policy);
        warnUnwitnessed();
      } else if (what === 'bundle') {
        if (positionals.length !== 1) throw new UsageError('verify bundle needs one BUNDLE');
        const bundle = await json(positionals[0]);
        const { policy, rosterKey } = await policyFor(checkpointOrigin(bundle?.checkpoint));
        result = verifyBundle(bundle, logKeyOf(rosterKey), policy);
        warnUnwitnessed();
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
      } else if (what === 'attestation') {
        if (!vkey || positionals.length !== 1)
          throw new UsageError(
            "verify attestation needs --key (the evaluator node's base64 public key) and one ATTESTATION",
          );
        const input = await json(positionals[0]);
        try {
          result = describeAttestation(verifyAttestation(input, vkey).body);
        } catch (err) {
          throw new VerificationError(`attestation: ${(err as Error).message}`);
        }
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
