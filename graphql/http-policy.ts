/**
 * The browser-facing HTTP policy of the GraphQL endpoint: which requests are executed at all
 * (POST with an `application/json` body only), which origins may call it cross-origin (an
 * explicit allow-list, no credentials), which error codes leave the server, and who may
 * introspect the schema or see "Did you mean …?" suggestions.
 */
import type { ASTVisitor, GraphQLError, ValidationContext, ValidationRule } from 'graphql';
// yoga's `createGraphQLError` builds errors from the same graphql module as yoga and the schema
// (a test runner may load a second copy for this file's own imports).
import { type CORSOptions, createGraphQLError, type GraphQLParams, type Plugin } from 'graphql-yoga';
import type { Principal } from '../authz/index.ts';

/**
 * Every `extensions.code` the API documents. Errors raised by graphql-js, yoga or a GraphQL
 * plugin are mapped onto this set; domain errors (`CreditError`) keep their own code.
 */
export const API_ERROR_CODES: ReadonlySet<string> = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'CONSENT_REQUIRED',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'WRONG_NODE',
  'PEER_UNAVAILABLE',
  'LOG_UNAVAILABLE',
  'LOG_CORRUPT',
  'STORAGE_FAILED',
  'PAYLOAD_TOO_LARGE',
  'BAD_REQUEST',
  'INTERNAL',
]);

/** Framework codes with a more specific API code than `BAD_REQUEST`. */
const FRAMEWORK_CODES: Readonly<Record<string, string>> = {
  REQUEST_ENTITY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  INTERNAL_SERVER_ERROR: 'INTERNAL',
};

/**
 * The API code for an error raised by graphql-js, yoga or a plugin (never a domain error):
 * documented codes are kept; `GRAPHQL_PARSE_FAILED`, `GRAPHQL_VALIDATION_FAILED`,
 * `OPERATION_RESOLUTION_FAILURE`, `PERSISTED_QUERY_NOT_FOUND` and any other become
 * `BAD_REQUEST`. An error without a code is `BAD_USER_INPUT` when it concerns a field (`located`)
 * and `BAD_REQUEST` otherwise.
 */
export function frameworkErrorCode(code: unknown, located: boolean): string {
  if (typeof code === 'string') {
    if (API_ERROR_CODES.has(code)) return code;
    return FRAMEWORK_CODES[code] ?? 'BAD_REQUEST';
  }
  return located ? 'BAD_USER_INPUT' : 'BAD_REQUEST';
}

/** graphql-js's "Did you mean …?" suggestions (names never contain `?`). */
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

/**
 * Gives an error raised by graphql-js, yoga, a plugin or a resolver's own `GraphQLError` (never a
 * domain error) a documented code ({@link frameworkErrorCode}) and, with `hideSuggestions`, strips
 * "Did you mean …?" from its message (graphql-tools' variable coercion ignores graphql-js's
 * `hideSuggestions` for enum values). In place, so yoga keeps the HTTP status it chose and does not
 * log a client's mistake as a server failure.
 */
export function normaliseFrameworkError<E extends GraphQLError>(error: E, hideSuggestions: boolean): E {
  const extensions = error.extensions as Record<string, unknown>;
  extensions.code = frameworkErrorCode(extensions.code, error.path !== undefined);
  if (hideSuggestions) error.message = error.message.replace(SUGGESTION, '');
  return error;
}

/** How long a browser may cache a CORS preflight answer (seconds). */
export const CORS_MAX_AGE_SECONDS = 600;

/** Request headers a cross-origin caller may send. */
export const CORS_ALLOWED_HEADERS: readonly string[] = ['authorization', 'content-type', 'x-correlation-id'];

/**
 * yoga's `cors` option for an allow-list of exact origins (`https://bank.example:8443`): `false`
 * (no CORS headers at all) when the list is empty; otherwise a function that allows exactly the
 * request's origin when it is listed, for `POST` only and without credentials (the API uses
 * bearer tokens, never cookies), and sends no CORS headers to any other origin.
 */
export function corsPolicy(origins: readonly string[]): false | ((request: Request) => CORSOptions) {
  if (origins.length === 0) return false;
  const allowed = new Set(origins);
  return (request) => {
    const origin = request.headers.get('origin');
    if (origin === null || !allowed.has(origin)) return false;
    return {
      origin,
      methods: ['POST'],
      allowedHeaders: [...CORS_ALLOWED_HEADERS],
      credentials: false,
      maxAge: CORS_MAX_AGE_SECONDS,
    };
  };
}

/** Media types a response may have (GraphQL over HTTP); `*\/*` and `application/*` match them. */
const RESPONSE_MEDIA_RANGES = new Set([
  'application/graphql-response+json',
  'application/json',
  'application/*',
  '*/*',
]);

/** `application/json`, optionally with `charset=utf-8` (any case, optionally quoted), and nothing else. */
const JSON_CONTENT_TYPE = /^application\/json[ \t]*(;[ \t]*charset[ \t]*=[ \t]*(utf-8|"utf-8")[ \t]*)?$/i;

/** Whether a `Content-Type` header value is one the endpoint executes. */
export function isJsonContentType(value: string | null): boolean {
  return value !== null && JSON_CONTENT_TYPE.test(value.trim());
}

/**
 * Whether an `Accept` header (absent means `application/json`) admits a JSON response in UTF-8,
 * read as yoga reads it when it picks the response type.
 */
export function acceptsJson(value: string | null): boolean {
  if (value === null || value.trim() === '') return true;
  return value
    .replace(/\s/g, '')
    .toLowerCase()
    .split(',')
    .some((range) => {
      const [type = '', ...params] = range.split(';');
      const charset = params.find((p) => p.startsWith('charset='));
      return RESPONSE_MEDIA_RANGES.has(type) && (charset === undefined || charset === 'charset=utf-8');
    });
}

/** A request-level error: `BAD_REQUEST` with an HTTP status (and headers) yoga honours. */
function requestError(status: number, message: string, headers?: Record<string, string>): GraphQLError {
  return createGraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status, headers } } });
}

const isGraphQLError = (x: unknown): x is GraphQLError => x instanceof Error && x.name === 'GraphQLError';

/** Reads a JSON request body into GraphQL parameters (the only body format the endpoint executes). */
async function parseJsonBody(request: Request): Promise<GraphQLParams> {
  let body: unknown;
  try {
    body = await request.json();
  } catch (err) {
    // The body-size limit aborts the stream with its own error.
    if (isGraphQLError(err)) throw err;
    throw createGraphQLError('POST body sent invalid JSON.', {
      extensions: { code: 'BAD_REQUEST', http: { spec: true, status: 400 } },
    });
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw requestError(400, 'POST body must be a JSON object.');
  return body as GraphQLParams;
}

/** Introspection meta-fields (`__typename` is not one: it reveals nothing about the schema). */
const INTROSPECTION_FIELDS = new Set(['__schema', '__type']);

/**
 * Refuses `__schema` and `__type` with `UNAUTHENTICATED`. Added only for anonymous requests; its
 * name keys yoga's validation cache, so a document validated for a signed-in caller is never
 * reused for an anonymous one.
 */
export function AnonymousIntrospectionRule(context: ValidationContext): ASTVisitor {
  return {
    Field(node) {
      if (INTROSPECTION_FIELDS.has(node.name.value))
        context.reportError(
          createGraphQLError(`Introspection (${node.name.value}) needs a signed-in caller.`, {
            nodes: node,
            extensions: { code: 'UNAUTHENTICATED' },
          }),
        );
    },
  };
}

/** What {@link httpPolicyPlugin} needs. */
export interface HttpPolicyOptions {
  /** Development mode: anyone may introspect and errors carry suggestions. */
  development: boolean;
  /** The request's principal (memoised); throws `UNAUTHENTICATED` for a bad token. */
  authenticate(request: Request): Principal | undefined;
  /** CORS is on (an origin allow-list): responses vary by `Origin` for caches. */
  varyByOrigin: boolean;
}

/**
 * The yoga plugin enforcing the policy:
 * - only `POST` is executed (405 otherwise: a `GET` is a CORS "simple request" and leaks queries
 *   into logs), only with an `application/json` body (415 for form, multipart, `text/plain`,
 *   `application/graphql`…: the types a cross-site form or `fetch` may send without a preflight),
 *   and only when the caller accepts a JSON response (406, before anything executes);
 * - outside development, anonymous introspection is refused and validation errors carry no
 *   suggestions (the error masking strips them from execution errors);
 * - validation errors get a documented `extensions.code`;
 * - with CORS on, every response says it varies by `Origin`.
 */
export function httpPolicyPlugin(options: HttpPolicyOptions): Plugin {
  const { development, authenticate, varyByOrigin } = options;
  return {
    onResponse({ response }) {
      if (varyByOrigin) response.headers.append('vary', 'Origin');
    },
    onRequestParse({ request, setRequestParser }) {
      if (request.method !== 'POST') throw requestError(405, 'GraphQL requests must use POST.', { Allow: 'POST' });
      if (!isJsonContentType(request.headers.get('content-type')))
        throw requestError(415, 'GraphQL requests must have an application/json body.');
      if (!acceptsJson(request.headers.get('accept')))
        throw requestError(406, 'GraphQL responses are application/graphql-response+json or application/json.');
      setRequestParser(parseJsonBody);
    },
    onValidate({ context, addValidationRule, validateFn, setValidationFn }) {
      if (!development) {
        if (!authenticate(context.request)) addValidationRule(AnonymousIntrospectionRule as ValidationRule);
        setValidationFn((schema, document, rules) => validateFn(schema, document, rules, { hideSuggestions: true }));
      }
      return ({ result }) => {
        for (const error of result) normaliseFrameworkError(error, !development);
      };
    },
  };
}
