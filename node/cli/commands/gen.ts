/** `credit-node gen`: deterministic synthetic data for the whole federation. */
import { resolve } from 'node:path';
import { generate } from '../../../scenarios/gen/generate.ts';
import { type Command, intFlag, parse, UsageError } from '../args.ts';

const usage = `usage: credit-node gen --enterprises N --seed S --out DIR

Writes enterprises of Xiamen, Zhangzhou and Quanzhou with valid USCCs, facts across every profile
section, loan books of three banks and enterprise key pairs, plus a small labelled share of
deliberately broken rows and duplicate codes (重错码), all listed in DIR/manifest.json.
The same seed gives the same bytes.`;

const command: Command = {
  summary: 'Generate deterministic demo data for the federation.',
  usage,
  async run(argv) {
    const { values } = parse(argv, {
      enterprises: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
    });
    if (!values.enterprises || values.seed === undefined || !values.out)
      throw new UsageError('--enterprises, --seed and --out are required');
    const enterprises = intFlag('enterprises', values.enterprises, 1, 10_000_000)!;
    const started = performance.now();
    const manifest = await generate({ enterprises, seed: values.seed, out: resolve(values.out) });
    const rows = Object.values(manifest.files).reduce((s, f) => s + f.rows, 0);
    console.log(
      JSON.stringify({
        out: resolve(values.out),
        enterprises,
        rows,
        invalid: manifest.invalid,
        duplicateCodes: manifest.duplicateCodes.length,
        oneEntityManyCodes: manifest.oneEntityManyCodes.length,
        seconds: Math.round(performance.now() - started) / 1000,
      }),
    );
    return 0;
  },
};

export default command;
