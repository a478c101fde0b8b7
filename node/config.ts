/**
 * Node configuration: a JSON file plus command-line overrides, validated once (zod) into a typed,
 * frozen object. Subsystems receive slices of it and never read `process.env`.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../model/errors.ts';
import { SECTIONS } from '../model/types.ts';
import { LOG_LEVELS } from './logger.ts';

/** Roles a node can play (DESIGN §1). */
export const ROLES = ['credit-centre', 'bank', 'easy-loan', 'city-peer', 'source'] as const;
export type Role = (typeof ROLES)[number];

const id = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,62}$/,
    'must be 1–63 lower-case letters, digits or dashes, starting with a letter or digit',
  );

/**
 * Whether a string is an exact web origin as a browser sends it in `Origin`: `http` or `https`,
 * a lower-case host, an optional non-default port, and no path, query, user or trailing slash.
 */
export function isExactOrigin(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
}

const origin = z
  .string()
  .refine(
    isExactOrigin,
    'must be an exact origin such as https://bank.example or http://localhost:5173 (lower-case host, no default port, path or trailing slash)',
  );

/** The schema of a node config file. */
export const ConfigSchema = z
  .object({
    nodeId: id,
    name: z.string().min(1).max(200),
    role: z.enum(ROLES),
    city: z.enum(['XM', 'ZZ', 'QZ']).optional(),
    /** Profile sections this node holds for the federation (a process-data source serves only some). */
    serves: z.array(z.enum(SECTIONS)).min(1).optional(),
    dataDir: z.string().min(1),
    api: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(4000),
        graphiql: z.boolean().default(false),
        /** Audience (`aud`) of the node's API tokens; defaults to `credit-node:<nodeId>`. */
        audience: z.string().min(1).optional(),
        tokenTtlSeconds: z.number().int().min(60).max(86_400).default(3600),
        /**
         * Development mode: anyone may introspect the schema and errors carry "Did you mean …?"
         * suggestions. Off by default; outside it only a signed-in caller may introspect.
         */
        development: z.boolean().default(false),
        /**
         * Exact origins (`https://host[:port]`) whose browser pages may call the API (CORS, without
         * credentials). Empty by default: no CORS headers at all, so other origins are refused.
         */
        corsOrigins: z.array(origin).default([]),
      })
      .strict()
      .prefault({}),
    p2p: z
      .object({
        listen: z.array(z.string().min(1)).default(['/ip4/127.0.0.1/tcp/0']),
        announce: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .prefault({}),
    /** Membership of a federation; absent for a stand-alone node. */
    federation: z
      .object({
        /** Path of the signed roster document; reloaded when it changes. */
        roster: z.string().min(1),
        /** Base64 Ed25519 public keys of the federation authorities allowed to sign rosters. */
        authorityKeys: z.array(z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'must be a base64 Ed25519 public key')).min(1),
        /** How many distinct authority signatures a roster needs. */
        threshold: z.number().int().min(1).default(1),
      })
      .strict()
      .refine((f) => f.threshold <= f.authorityKeys.length, 'threshold exceeds the number of authority keys')
      .optional(),
    log: z
      .object({ level: z.enum(LOG_LEVELS).default('info') })
      .strict()
      .prefault({}),
  })
  .strict();

/** A validated node configuration. */
export type NodeConfig = z.output<typeof ConfigSchema>;
/** What a config file or a caller may give. */
export type NodeConfigInput = z.input<typeof ConfigSchema>;

/** Turns zod issues into one readable message naming every bad field. */
function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/**
 * Validates a config object. Relative `dataDir` and `roster` are resolved against `baseDir`.
 * @throws ConfigError naming every bad field.
 */
export function parseConfig(input: unknown, baseDir = process.cwd()): NodeConfig {
  const r = ConfigSchema.safeParse(input);
  if (!r.success) throw new ConfigError(`invalid config: ${describe(r.error)}`);
  const cfg = r.data;
  cfg.dataDir = resolve(baseDir, cfg.dataDir);
  if (cfg.federation) cfg.federation.roster = resolve(baseDir, cfg.federation.roster);
  return deepFreeze(cfg);
}

/** Overrides that command-line flags may apply over a config file. */
export interface ConfigOverrides {
  dataDir?: string;
  host?: string;
  port?: number;
  logLevel?: string;
  graphiql?: boolean;
}

/**
 * Reads a JSON config file, applies overrides, validates.
 * @throws ConfigError when the file is missing, not JSON, or invalid.
 */
export async function loadConfig(path: string, overrides: ConfigOverrides = {}): Promise<NodeConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : 'not valid JSON';
    throw new ConfigError(`config file ${path}: ${reason}`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError(`config file ${path}: must hold a JSON object`);
  return parseConfig(applyOverrides(raw as Record<string, unknown>, overrides), dirname(resolve(path)));
}

/** Applies command-line overrides to a raw config object (before validation). */
export function applyOverrides(raw: Record<string, unknown>, o: ConfigOverrides): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw };
  if (o.dataDir !== undefined) out.dataDir = resolve(o.dataDir);
  if (o.host !== undefined || o.port !== undefined || o.graphiql !== undefined) {
    const api = { ...((raw.api as Record<string, unknown>) ?? {}) };
    if (o.host !== undefined) api.host = o.host;
    if (o.port !== undefined) api.port = o.port;
    if (o.graphiql !== undefined) api.graphiql = o.graphiql;
    out.api = api;
  }
  if (o.logLevel !== undefined) out.log = { ...((raw.log as Record<string, unknown>) ?? {}), level: o.logLevel };
  return out;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
