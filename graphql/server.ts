/**
 * The GraphQL endpoint (graphql-yoga + @graphql-tools/schema): authentication from a bearer
 * token, a correlation id per request, error masking with stable `extensions.code`, limits
 * on body size, depth, aliases, directives, tokens and cost, and the browser-facing HTTP policy
 * of ./http-policy.ts (JSON POST only, CORS allow-list, introspection and suggestions).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { GraphQLError, GraphQLScalarType } from 'graphql';
import { createGraphQLError, createYoga, type Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import {
  ConsentRequiredError,
  correlationIdFrom,
  type Principal,
  type TokenService,
  WrongNodeError,
} from '../authz/index.ts';
import { CreditError, InvalidInputError } from '../model/errors.ts';
import { corsPolicy, httpPolicyPlugin, normaliseFrameworkError } from './http-policy.ts';
import { type Context, createResolvers, type ResolverServices } from './resolvers.ts';
import { typeDefs } from './schema.ts';

/** Largest request body (bytes): room for a batch of 10,000 USCCs (about 210 KB of JSON). */
export const MAX_BODY_BYTES = 512 * 1024;

/** Limits on query shape. */
export const QUERY_LIMITS = { depth: 10, aliases: 20, directives: 20, tokens: 2000, cost: 5000 } as const;

const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  serialize: (v) => v,
  parseValue: (v) => v,
  parseLiteral: () => {
    throw new GraphQLError('JSON values must be passed as variables', { extensions: { code: 'BAD_USER_INPUT' } });
  },
});

/**
 * Maps domain errors to GraphQL errors with a stable code (kept as is, whatever it is); maps the
 * codes of other GraphQL errors (graphql-js, yoga, plugins) onto the documented set and, with
 * `hideSuggestions`, strips "Did you mean …?" from their messages; masks everything else.
 */
function maskError(error: unknown, hideSuggestions: boolean): Error {
  // Duck-typed: GraphQLError may come from another copy of graphql (ESM and CJS builds).
  const e = error as GraphQLError;
  const isGql = (x: unknown): x is GraphQLError =>
    typeof x === 'object' && x !== null && 'extensions' in x && 'locations' in x;
  const original = isGql(e) ? e.originalError : (error as Error);
  const opts = (code: string, extra: Record<string, unknown> = {}) => ({
    nodes: e.nodes,
    path: e.path,
    extensions: { code, ...extra },
  });
  // Expected domain errors keep their GraphQL error (so the server does not log them as failures)
  // with a stable code added.
  const tag = (code: string, extra: Record<string, unknown> = {}) => {
    if (!isGql(e)) return createGraphQLError((original as Error).message, opts(code, extra));
    Object.assign(e.extensions as Record<string, unknown>, { code, ...extra });
    return e;
  };
  if (original instanceof ConsentRequiredError)
    return tag(original.code, { missing: original.missing, reason: original.reason });
  if (original instanceof InvalidInputError)
    return tag(original.code, original.details.length ? { details: original.details } : {});
  if (original instanceof WrongNodeError) return tag(original.code, { home: original.home });
  if (original instanceof CreditError) return tag(original.code);
  // Parse, validation, variable and HTTP errors, and GraphQLErrors thrown by resolvers or scalars.
  if (isGql(e) && (!original || isGql(original))) return normaliseFrameworkError(e, hideSuggestions);
  return createGraphQLError('Unexpected error.', opts('INTERNAL'));
}

/**
 * The principal of an `Authorization` header; `undefined` when there is none.
 * @throws GraphQLError `UNAUTHENTICATED` (HTTP 401) for a malformed header or a bad token: a bad
 * token is an error at once, not an anonymous request.
 */
function verifyBearer(tokens: TokenService, auth: string | null): Principal | undefined {
  if (!auth) return undefined;
  const m = /^Bearer ([A-Za-z0-9._-]+)$/.exec(auth);
  if (!m)
    throw createGraphQLError('malformed authorization header', {
      extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
    });
  try {
    return tokens.verify(m[1]);
  } catch (err) {
    throw createGraphQLError((err as Error).message, {
      extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
    });
  }
}

/** What the GraphQL endpoint needs. */
export interface GraphqlComponents extends ResolverServices {
  tokens: TokenService;
  logger: Logger;
}

/** Endpoint settings. */
export interface GraphqlInit {
  /** Serve GraphiQL to browsers on `GET /graphql` (default off). */
  graphiql?: boolean;
  /** Development mode: anonymous introspection and "Did you mean …?" suggestions (default off). */
  development?: boolean;
  /** Exact origins allowed to call the API from a browser (default none: no CORS headers at all). */
  corsOrigins?: readonly string[];
}

/** A Node HTTP handler for `/graphql`. */
export type GraphqlHandler = ((req: IncomingMessage, res: ServerResponse) => Promise<void>) & {
  /** In-process fetch, for tests and audits. */
  fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
};

/** Creates the GraphQL endpoint. */
export function createGraphqlHandler(components: GraphqlComponents, init: GraphqlInit = {}): GraphqlHandler {
  const schema = makeExecutableSchema({ typeDefs, resolvers: { ...createResolvers(components), JSON: JSONScalar } });
  const log = components.logger.child({ component: 'graphql' });
  const corsOrigins = init.corsOrigins ?? [];
  const development = init.development ?? false;
  // A request's principal, verified once and shared by validation (introspection) and the context.
  const principals = new WeakMap<Request, Principal | null>();
  const authenticate = (request: Request): Principal | undefined => {
    const known = principals.get(request);
    if (known !== undefined) return known ?? undefined;
    const principal = verifyBearer(components.tokens, request.headers.get('authorization'));
    principals.set(request, principal ?? null);
    return principal;
  };
  const armor: Plugin[] = [
    maxDepthPlugin({ n: QUERY_LIMITS.depth, ignoreIntrospection: false, exposeLimits: true }),
    maxAliasesPlugin({ n: QUERY_LIMITS.aliases, exposeLimits: true }),
    maxDirectivesPlugin({ n: QUERY_LIMITS.directives, exposeLimits: true }),
    maxTokensPlugin({ n: QUERY_LIMITS.tokens, exposeLimits: true }),
    costLimitPlugin({ maxCost: QUERY_LIMITS.cost, ignoreIntrospection: false, exposeLimits: true }),
  ] as Plugin[];
  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: init.graphiql ?? false,
    landingPage: false,
    batching: false,
    multipart: false,
    cors: corsPolicy(corsOrigins),
    maxRequestBodySize: MAX_BODY_BYTES,
    maskedErrors: { maskError: (err) => maskError(err, !development) },
    logging: {
      debug: () => undefined,
      info: () => undefined,
      warn: (...a: unknown[]) => log.warn({ detail: String(a[0]).slice(0, 200) }, 'graphql warning'),
      error: (...a: unknown[]) => log.error({ detail: String(a[0]).slice(0, 200) }, 'graphql error'),
    },
    plugins: [httpPolicyPlugin({ development, authenticate, varyByOrigin: corsOrigins.length > 0 }), ...armor],
    context: ({ request }) => {
      const correlationId = correlationIdFrom(request.headers.get('x-correlation-id'));
      const principal = authenticate(request);
      return principal ? { correlationId, principal } : { correlationId };
    },
  });

  const handler = (async (req: IncomingMessage, res: ServerResponse) => {
    const tooLarge = () => {
      res.writeHead(413, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          errors: [
            { message: `request body larger than ${MAX_BODY_BYTES} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } },
          ],
        }),
      );
    };
    let body: Buffer | undefined;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
        req.resume();
        return tooLarge();
      }
      const parts: Buffer[] = [];
      let size = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          req.destroy();
          return tooLarge();
        }
        parts.push(chunk);
      }
      body = Buffer.concat(parts);
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const response = await yoga.fetch(`http://${req.headers.host ?? 'localhost'}${req.url}`, {
      method: req.method,
      headers,
      body,
    });
    const out: Record<string, string> = {};
    response.headers.forEach((v, k) => {
      out[k] = v;
    });
    res.writeHead(response.status, out);
    res.end(Buffer.from(await response.arrayBuffer()));
  }) as GraphqlHandler;
  handler.fetch = (input, i) => Promise.resolve(yoga.fetch(input as URL, i ?? {}));
  return handler;
}
