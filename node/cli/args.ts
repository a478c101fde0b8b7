/** Shared command-line parsing: node:util parseArgs with errors that name the flag. */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { CreditError } from '../../model/errors.ts';

/** A command-line usage error: exit code 2 and the command's usage text. */
export class UsageError extends CreditError {
  static override name = 'UsageError';
  override readonly code = 'USAGE';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `argv` strictly; unknown flags and missing values become a {@link UsageError}. */
export function parse<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional.*$/s, ''), { cause: err });
  }
}

/** Parses an integer flag value in [min, max]. */
export function intFlag(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new UsageError(`--${name} must be an integer`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}`);
  return n;
}

/** A CLI command: `run` returns the process exit code. */
export interface Command {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}
