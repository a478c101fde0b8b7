/**
 * Structured logs (pino) to stderr, so that `--json` output on stdout stays machine-readable.
 * Credit attributes and secrets are redacted by path as a second line of defence; the first is
 * that subsystems never log them.
 */
import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/** Log levels accepted in config and on the command line. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Paths censored wherever they appear in a log object. */
export const REDACT_PATHS = [
  'seed',
  'secret',
  'passphrase',
  'privateKey',
  'token',
  'authorization',
  'payload',
  'record',
  'row',
  'uscc',
  '*.seed',
  '*.secret',
  '*.passphrase',
  '*.privateKey',
  '*.token',
  '*.authorization',
  '*.payload',
  '*.record',
  '*.row',
  '*.uscc',
  'req.headers.authorization',
];

/** Creates the root logger of a process. */
export function createLogger(options: { level?: LogLevel; name?: string } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      name: options.name,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    pino.destination({ dest: 2, sync: true }),
  );
}

/** A logger that drops everything (tests, benches). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
