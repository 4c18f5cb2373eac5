// The router's own plugins: request ids, authentication, what travels upstream, access rules and
// the error codes. Wired together in ../gateway.config.ts.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { GatewayPlugin } from '@graphql-hive/gateway';
import { getDirectiveExtensions } from '@graphql-tools/utils';
import {
  getDirectiveValues,
  getNamedType,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  Kind,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type ExecutionArgs,
  type FieldNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { bearerToken, unauthenticated, type AccessTokenClaims } from './jwt.ts';
import type { Span } from '@opentelemetry/api';
import { activeTraceparent } from './telemetry.ts';

// ----------------------------------------------------------------------------- context fields

/** What the router adds to every operation's context (HTTP and WebSocket). */
export interface RouterContext {
  /** Verified access token (same shape as the gateway's own `jwt:` option). */
  jwt?: { payload: AccessTokenClaims; token: { value: string; prefix: 'Bearer' } };
  requestId?: string;
  /** Values sent to the subgraphs; read by propagateHeaders and the WebSocket connectionParams. */
  upstream?: UpstreamValues;
}

export interface UpstreamValues {
  authorization?: string; // "Bearer <token>", only for a verified token
  requestId: string;
  forwardedFor?: string;
  /** x-router-signature for the WebSocket connection_init payload (fresh per operation, made on first read). */
  readonly routerCredential: string;
  /** W3C traceparent of the span active when read (the subgraph execution), '' when not traced. */
  readonly traceparent: string;
}

interface RemoteEnd {
  remoteAddress?: string;
}

/** What the hive-gateway CLI's Node server adds to the context: `req` (the HTTP request; for a
 *  WebSocket operation, the upgrade request) and, on WebSocket, `socket`. Only addresses are read. */
interface NodeServerContext {
  req?: { socket?: RemoteEnd; connection?: RemoteEnd };
  socket?: RemoteEnd;
}

/** The plugins' type: their hooks see the gateway's context plus the fields above. */
type RouterPlugin = GatewayPlugin<RouterContext & NodeServerContext>;

function lookupCaseInsensitive(obj: unknown, name: string): unknown {
  if (!obj || typeof obj !== 'object') return undefined;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    if (k.toLowerCase() === lower) return v;
  }
  return undefined;
}

const isWebSocket = (context: { connectionParams?: unknown }) => context.connectionParams != null;

// ----------------------------------------------------------------------------- request ids

const REQUEST_ID_HEADER = 'x-request-id';
const VALID_REQUEST_ID = /^[A-Za-z0-9._:@\/+=-]{1,128}$/;

function acceptRequestId(value: unknown): string | undefined {
  return typeof value === 'string' && VALID_REQUEST_ID.test(value) ? value : undefined;
}

/**
 * x-request-id: the client's value when it is sane (1-128 URL-safe characters), else a new UUID.
 * HTTP: one per request, echoed in the response header. WebSocket: one per operation, taken from
 * the connection_init payload (`x-request-id`), else the upgrade request header, else new.
 * Replaces the gateway's built-in requestId plugin (disabled with `requestId: false`), which
 * accepts any client value and does not reach WebSocket operations.
 */
export function useRequestIds(): RouterPlugin {
  const byRequest = new WeakMap<Request, string>();
  return {
    onRequest({ request, serverContext }) {
      const id = acceptRequestId(request.headers.get(REQUEST_ID_HEADER)) ?? randomUUID();
      byRequest.set(request, id);
      if (serverContext?.log?.child) serverContext.log = serverContext.log.child({ requestId: id });
    },
    onContextBuilding({ context, extendContext }) {
      let id = context.request ? byRequest.get(context.request) : undefined;
      if (!id) {
        id =
          acceptRequestId(lookupCaseInsensitive(context.connectionParams, REQUEST_ID_HEADER)) ??
          acceptRequestId(context.request?.headers?.get?.(REQUEST_ID_HEADER)) ??
          randomUUID();
        const extra: Parameters<typeof extendContext>[0] = { requestId: id };
        if (context.log?.child) extra.log = context.log.child({ requestId: id });
        extendContext(extra);
        return;
      }
      extendContext({ requestId: id });
    },
    onResponse({ request, response }) {
      const id = byRequest.get(request);
      if (id) response.headers.set(REQUEST_ID_HEADER, id);
    },
  };
}

// ----------------------------------------------------------------------------- authentication

/**
 * Finds the access token (HTTP `Authorization` header; WebSocket connection_init payload key
 * `Authorization`, any case, "Bearer " prefix included, falling back to the upgrade request's
 * header), verifies it and sets `context.jwt`. No token: anonymous. A token that is malformed,
 * forged, expired, for another issuer/audience or signed with an unknown key: the operation fails
 * with UNAUTHENTICATED. Must run before useAccessRules.
 */
export function useAccessTokens(verify: (token: string) => Promise<AccessTokenClaims>): RouterPlugin {
  return {
    onContextBuilding({ context, extendContext }) {
      let presented: unknown;
      if (isWebSocket(context)) {
        presented = lookupCaseInsensitive(context.connectionParams, 'authorization');
      }
      if (presented == null || presented === '') {
        presented = context.request?.headers?.get?.('authorization') ?? undefined;
      }
      const token = bearerToken(presented);
      if (token === undefined) return; // anonymous
      if (token === null) throw unauthenticated('Malformed Authorization value: expected "Bearer <token>"');
      return verify(token).then((payload) => {
        extendContext({ jwt: { payload, token: { value: token, prefix: 'Bearer' } } });
      });
    },
  };
}

// ----------------------------------------------------------------------------- upstream values

export const WS_CREDENTIAL_CONTEXT = 'payments-bff/router-websocket/v2';

/**
 * A single-use WebSocket credential for one upstream connection: `v2.<unix seconds>.<nonce>.<mac>`,
 * mac = base64url HMAC-SHA256(secret, "payments-bff/router-websocket/v2.<unix seconds>.<nonce>"),
 * nonce = 16 random bytes, base64url. The subgraph accepts it once (the nonce is remembered in
 * Redis) and only while fresh (60 s); see shared/router_signature.py.
 */
export function routerWebSocketCredential(secret: string, nowMs: number = Date.now()): string {
  const ts = Math.floor(nowMs / 1000);
  const nonce = randomBytes(16).toString('base64url');
  const mac = createHmac('sha256', secret).update(`${WS_CREDENTIAL_CONTEXT}.${ts}.${nonce}`).digest('base64url');
  return `v2.${ts}.${nonce}.${mac}`;
}

function clientAddress(context: NodeServerContext): string | undefined {
  const addr: unknown = context.req?.socket?.remoteAddress ?? context.socket?.remoteAddress ?? context.req?.connection?.remoteAddress;
  if (typeof addr !== 'string' || addr === '') return undefined;
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}

/**
 * Computes, once per operation, what every subgraph request carries: the verified
 * Authorization, the request id, X-Forwarded-For (the client's address; with ROUTER_TRUST_PROXY
 * the incoming X-Forwarded-For chain is kept in front of it) and the WebSocket router credential.
 * Runs after useRequestIds and useAccessTokens.
 */
export function useUpstreamValues(opts: { hmacSecret: string; trustProxy: boolean }): RouterPlugin {
  return {
    onContextBuilding({ context, extendContext }) {
      const jwt = context.jwt;
      const addr = clientAddress(context);
      let forwardedFor = addr;
      if (opts.trustProxy) {
        const incoming = context.request?.headers?.get?.('x-forwarded-for');
        if (typeof incoming === 'string' && incoming.trim()) {
          forwardedFor = addr ? `${incoming.trim()}, ${addr}` : incoming.trim();
        }
      }
      let credential: string | undefined;
      const upstream: UpstreamValues = {
        authorization: jwt ? `Bearer ${jwt.token.value}` : undefined,
        requestId: context.requestId ?? randomUUID(),
        forwardedFor,
        // Fresh for every operation: the WebSocket transport opens one upstream connection per
        // distinct connectionParams, so each connection_init carries a credential of its own.
        // Made when first read (only subscriptions read it: an HMAC and 16 random bytes saved on
        // every HTTP operation), then the same for the rest of the operation.
        get routerCredential() {
          credential ??= routerWebSocketCredential(opts.hmacSecret);
          return credential;
        },
        // Read by the WebSocket transport's header interpolation inside the subgraph execution.
        get traceparent() {
          return activeTraceparent((context as { wsSpan?: Span }).wsSpan);
        },
      };
      extendContext({ upstream });
    },
  };
}

// ----------------------------------------------------------------------------- subgraph operation names

/**
 * Subgraph operations carry the client's operation name, whatever the planner. The JavaScript
 * planner keeps it (`query MeAndProfile { … }`); the Rust planner (ROUTER_RUST_PLANNER=true) sends
 * anonymous operations (`query { … }`), so the subgraphs' spans and access lines would lose it.
 * An anonymous single-operation subgraph document gets the client's name: a named copy made once
 * per (document, name) (the plans and their documents are cached, so are the copies and their
 * printed text). Register before useUpstreamSigning: the name is part of the signed query.
 */
export function useSubgraphOperationNames(): RouterPlugin {
  const clientNames = new WeakMap<object, string>();
  const named = new WeakMap<DocumentNode, Map<string, DocumentNode>>();
  const remember = (args: ExecutionArgs) => {
    const name = getOperationAST(args.document, args.operationName)?.name?.value;
    if (name && args.contextValue != null && typeof args.contextValue === 'object') clientNames.set(args.contextValue, name);
  };
  const withName = (document: DocumentNode, name: string): DocumentNode | undefined => {
    let byName = named.get(document);
    const known = byName?.get(name);
    if (known) return known;
    let operation: OperationDefinitionNode | undefined;
    for (const def of document.definitions) {
      if (def.kind !== Kind.OPERATION_DEFINITION) continue;
      if (operation || def.name) return undefined; // several operations, or named already
      operation = def;
    }
    if (!operation) return undefined;
    const renamed: OperationDefinitionNode = { ...operation, name: { kind: Kind.NAME, value: name } };
    const copy: DocumentNode = { ...document, definitions: document.definitions.map((d) => (d === operation ? renamed : d)) };
    if (!byName) {
      byName = new Map();
      named.set(document, byName);
    }
    byName.set(name, copy);
    return copy;
  };
  return {
    onExecute({ args }) {
      remember(args);
    },
    onSubscribe({ args }) {
      remember(args);
    },
    onSubgraphExecute({ executionRequest, setExecutionRequest }) {
      const context = executionRequest.context;
      const name = context != null && typeof context === 'object' ? clientNames.get(context) : undefined;
      if (!name) return;
      const document = withName(executionRequest.document, name);
      if (document) setExecutionRequest({ ...executionRequest, document, operationName: name });
    },
  };
}

// ----------------------------------------------------------------------------- upstream signature

/** The extension every subgraph request carries its signature in. */
export const SIGNATURE_EXTENSION = 'hmac-signature';

/**
 * Signs every subgraph request (HTTP, and each WebSocket `subscribe` message): the body's
 * `extensions["hmac-signature"]` = base64 (standard, padded) HMAC-SHA256 with the secret's UTF-8
 * bytes as key over the UTF-8 bytes of `serialize(executionRequest)` (src/uploads.ts
 * `signedPayload`: `json-stable-stringify` of `{query, variables}`, files as null).
 *
 * The same bytes and the same place as the gateway's `hmacSignature` option
 * (@graphql-mesh/hmac-upstream-signature 2.1.0, docs/router.md "HMAC upstream signature"), which
 * it replaces: that plugin signs with WebCrypto (`crypto.subtle.sign`, a promise and a crypto job
 * per subgraph request, about a tenth of the router's CPU in a profile) and builds a child logger
 * and debug lines per request. node:crypto's synchronous HMAC costs microseconds.
 */
export function useUpstreamSigning(opts: {
  secret: string;
  serialize: (executionRequest: Parameters<NonNullable<RouterPlugin['onSubgraphExecute']>>[0]['executionRequest']) => string;
}): RouterPlugin {
  const key = Buffer.from(opts.secret, 'utf8');
  return {
    onSubgraphExecute({ executionRequest }) {
      const signature = createHmac('sha256', key).update(opts.serialize(executionRequest), 'utf8').digest('base64');
      executionRequest.extensions ??= {};
      executionRequest.extensions[SIGNATURE_EXTENSION] = signature;
    },
  };
}

// ----------------------------------------------------------------------------- access rules

const isArray = (value: unknown): value is readonly unknown[] => Array.isArray(value);

function satisfies(required: unknown, granted: readonly string[]): boolean {
  // @requiresScopes(scopes: [["a", "b"], ["c"]]) means (a AND b) OR c.
  if (!isArray(required) || required.length === 0) return true;
  return required.some((all) => isArray(all) && all.every((s) => granted.includes(String(s))));
}

export function scopesOf(user: unknown): string[] {
  const scope = (user as AccessTokenClaims | null)?.scope;
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}

/** A selected field that needs a user (@authenticated or @requiresScopes on it or its type). */
export interface FieldRule {
  /** `Type.field`, for the error message. */
  coordinate: string;
  node: FieldNode;
  typeScopes: unknown;
  fieldScopes: unknown;
  /** Index of the nearest enclosing rule in the same list (-1: none): a field whose enclosing
   *  field was refused is not checked (its error would be a duplicate). */
  parent: number;
  /** The field carries @skip/@include: checked only when it is included. */
  conditional: boolean;
}

/** Rules of a document are computed once per (schema, document): Yoga's parse cache hands the
 *  same DocumentNode to every request with the same text. */
const rulesBySchema = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, FieldRule[]>>();

/**
 * Every selected field of `document` that needs a user, in document order, with what it needs.
 * Same walk as @envelop/generic-auth 11.2.1 (mode protect-granular, which this replaces): every
 * definition of the document, fields of object and interface types with their parent type from
 * TypeInfo, directives read with getDirectiveExtensions (supergraph names `authenticated`,
 * `requiresScopes`); introspection types and fields on unions need nothing; `@policy` is left to
 * the subgraphs.
 */
export function fieldRules(schema: GraphQLSchema, document: DocumentNode): FieldRule[] {
  let byDocument = rulesBySchema.get(schema);
  if (!byDocument) {
    byDocument = new WeakMap();
    rulesBySchema.set(schema, byDocument);
  }
  const known = byDocument.get(document);
  if (known) return known;

  const rules: FieldRule[] = [];
  const typeInfo = new TypeInfo(schema);
  // For each Field being visited: index of its rule, or -1; the enclosing rule is the last >= 0.
  const open: number[] = [];
  const enclosing = () => {
    for (let i = open.length - 1; i >= 0; i--) if (open[i] >= 0) return open[i];
    return -1;
  };
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field: {
        enter(node) {
          let index = -1;
          const parentType = getNamedType(typeInfo.getParentType());
          if (parentType && !isIntrospectionType(parentType) && (isObjectType(parentType) || isInterfaceType(parentType))) {
            const field = parentType.getFields()[node.name.value];
            if (field) {
              const typeDirectives = getDirectiveExtensions(parentType, schema);
              const fieldDirectives = getDirectiveExtensions(field, schema);
              const typeAuth = typeDirectives.authenticated?.[0];
              const fieldAuth = fieldDirectives.authenticated?.[0];
              const typeScopes = (typeDirectives.requiresScopes?.[0] as { scopes?: unknown } | undefined)?.scopes;
              const fieldScopes = (fieldDirectives.requiresScopes?.[0] as { scopes?: unknown } | undefined)?.scopes;
              const needsUser =
                typeAuth != null || fieldAuth != null ||
                (isArray(typeScopes) && typeScopes.length > 0) ||
                (isArray(fieldScopes) && fieldScopes.length > 0);
              if (needsUser) {
                index = rules.length;
                rules.push({
                  coordinate: `${parentType.name}.${field.name}`,
                  node,
                  typeScopes,
                  fieldScopes,
                  parent: enclosing(),
                  conditional: (node.directives ?? []).some((d) => d.name.value === 'skip' || d.name.value === 'include'),
                });
              }
            }
          }
          open.push(index);
        },
        leave() {
          open.pop();
        },
      },
    }),
  );
  byDocument.set(document, rules);
  return rules;
}

/** @skip/@include of a field, as graphql-js (and @graphql-tools/utils shouldIncludeNode) read
 *  them: skip wins. A condition that cannot be evaluated (an explicit null for `if`, a variable
 *  of another operation of the document) counts as included: the field is checked (fail closed),
 *  and graphql-js's own throw would otherwise reach the client as INTERNAL_SERVER_ERROR. */
function included(values: Record<string, unknown>, node: FieldNode): boolean {
  try {
    if (getDirectiveValues(GraphQLSkipDirective, node, values)?.if === true) return false;
    return getDirectiveValues(GraphQLIncludeDirective, node, values)?.if !== false;
  } catch {
    return true;
  }
}

/** The variable values @skip/@include are evaluated with (generic-auth's: coerced when the
 *  operation declares variables, undefined when they do not coerce). */
function directiveVariables(args: ExecutionArgs): Record<string, unknown> | undefined {
  const operation = getOperationAST(args.document, args.operationName);
  const definitions = operation?.variableDefinitions;
  if (definitions?.length) {
    const { coerced } = getVariableValues(args.schema, definitions, args.variableValues ?? {});
    return coerced;
  }
  return (args.variableValues ?? undefined) as Record<string, unknown> | undefined;
}

/**
 * The errors for `rules` and a user (null: anonymous), in document order:
 * - @authenticated (field or its parent type) or @requiresScopes, no user: UNAUTHENTICATED;
 * - @requiresScopes, a user without the scopes: FORBIDDEN;
 * - @policy: not evaluated here (ownership needs data the router does not have); the subgraph
 *   that owns the field enforces it.
 */
export function accessErrors(
  rules: readonly FieldRule[],
  user: AccessTokenClaims | null,
  variables: () => Record<string, unknown> | undefined,
): GraphQLError[] {
  if (rules.length === 0) return [];
  const errors: GraphQLError[] = [];
  const refused = new Array<boolean>(rules.length).fill(false);
  let granted: string[] | undefined;
  let values: Record<string, unknown> | undefined | null = null; // null: not computed yet
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    if (rule.parent >= 0 && refused[rule.parent]) {
      refused[i] = true; // inside a refused field: not visited
      continue;
    }
    if (rule.conditional) {
      if (values === null) values = variables();
      if (values && !included(values, rule.node)) continue;
    }
    let error: GraphQLError | undefined;
    if (user == null) {
      error = new GraphQLError(`Authentication required to access ${rule.coordinate}`, {
        nodes: [rule.node],
        extensions: { code: 'UNAUTHENTICATED' },
      });
    } else {
      granted ??= scopesOf(user);
      if (!satisfies(rule.typeScopes, granted) || !satisfies(rule.fieldScopes, granted)) {
        error = new GraphQLError(`Not allowed to access ${rule.coordinate}`, {
          nodes: [rule.node],
          extensions: { code: 'FORBIDDEN' },
        });
      }
    }
    if (error) {
      refused[i] = true;
      errors.push(error);
    }
  }
  return errors;
}

/**
 * `@authenticated` and `@requiresScopes` of the supergraph, for every operation (HTTP and
 * WebSocket), before anything is executed: one failing field rejects the whole operation
 * (`data: null`, one error per failing field). Runs after useAccessTokens (the user is
 * `context.jwt.payload`) and the rate limit.
 *
 * Replaces @envelop/generic-auth 11.2.1 (protect-granular) with the same rules and errors:
 * generic-auth walked the whole document with TypeInfo on every request and then handed
 * execution a copy of the document (its `removeEmptyOrUnusedNodes`), so every cache the gateway
 * keys by DocumentNode (the query planner's plans, the printed subgraph queries) missed on every
 * request. Here the walk is done once per document and the document is never replaced.
 */
export function useAccessRules(): RouterPlugin {
  const check = (
    args: ExecutionArgs,
    setResultAndStopExecution: (result: { data: null; errors: GraphQLError[] }) => void,
  ) => {
    const rules = fieldRules(args.schema, args.document);
    if (rules.length === 0) return;
    const user = (args.contextValue as RouterContext).jwt?.payload ?? null;
    const errors = accessErrors(rules, user, () => directiveVariables(args));
    if (errors.length > 0) setResultAndStopExecution({ data: null, errors });
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      check(args, setResultAndStopExecution);
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      check(args, setResultAndStopExecution);
    },
  };
}

// ----------------------------------------------------------------------------- error codes

export const CONTRACT_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'RATE_LIMITED',
  'PAYMENT_PROVIDER_ERROR',
  'INTERNAL_SERVER_ERROR',
  'MFA_REQUIRED', // login of a TOTP-enrolled account; extensions.mfaToken passes through as is
  'SERVICE_UNAVAILABLE',
]);

/** Codes the gateway (GraphQL Yoga 5.24, @graphql-tools/executor) gives to requests the client
 *  got wrong. */
const CLIENT_ERROR_CODES = new Set([
  'BAD_REQUEST',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'REQUEST_ENTITY_TOO_LARGE',
]);

const INTERNAL_MESSAGE = 'Internal server error';

/** Messages of the code-less request errors graphql-js 16 / graphql-armor raise for bad input. */
const CLIENT_ERROR_MESSAGE =
  /^(Syntax Error: |Variable "\$|Unknown operation named |Must provide operation name|Must provide a query|Must provide query|Could not determine what operation|Multipart form field "|Missing multipart form field ")/;

/**
 * GraphQL validation errors never reach maskError (Yoga returns them as they are, with
 * code GRAPHQL_VALIDATION_FAILED from its useHTTPValidationError): give them BAD_USER_INPUT.
 */
export function useValidationErrorCode(opts: { production: boolean }): RouterPlugin {
  return {
    onValidate() {
      return ({ valid, result }) => {
        if (valid) return;
        for (const error of result) {
          const ext = error.extensions as Record<string, unknown>;
          if (ext && !CONTRACT_CODES.has(ext.code as string)) ext.code = 'BAD_USER_INPUT';
          scrub(error, opts.production);
        }
      };
    },
  };
}

function isGraphQLErrorList(value: unknown): value is GraphQLError[] {
  return Array.isArray(value) && value.every((e) => e instanceof GraphQLError);
}

/**
 * The last word on every single (non-streamed) result, HTTP and WebSocket, whatever produced its
 * errors (maskError, validation, a plugin's setResult): no internals (`originalError`, stack,
 * exception), no suggestions in production; and SERVICE_UNAVAILABLE becomes HTTP 503 with a
 * Retry-After header when the result has no data at all (nothing else could be answered).
 */
export function useResultScrubbing(opts: { production: boolean }): RouterPlugin {
  return {
    onExecutionResult({ result }) {
      if (result == null || Symbol.asyncIterator in Object(result)) return;
      const single = result as { data?: unknown; errors?: unknown };
      if (!isGraphQLErrorList(single.errors)) return;
      const nothingAnswered = single.data == null;
      for (const error of single.errors) {
        scrub(error, opts.production);
        const ext = error.extensions as Record<string, unknown>;
        if (ext?.code === 'SERVICE_UNAVAILABLE' && nothingAnswered && ext.http === undefined) {
          const retryAfter = typeof ext.retryAfter === 'number' ? ext.retryAfter : UNAVAILABLE_RETRY_AFTER;
          ext.http = { status: 503, headers: { 'retry-after': String(retryAfter) } };
        }
      }
    },
  };
}

/** An entry of a graphql-transport-ws `error` message, as received: nothing is guaranteed. */
interface WireError {
  message?: unknown;
  extensions?: { code?: unknown };
}

function asWireError(value: unknown): WireError | undefined {
  return value != null && typeof value === 'object' ? (value as WireError) : undefined;
}

function contractCodeOf(error: WireError | undefined): string | undefined {
  const code = error?.extensions?.code;
  return typeof code === 'string' && CONTRACT_CODES.has(code) ? code : undefined;
}

function isOriginalGraphQLError(error: unknown): error is GraphQLError {
  // graphql-yoga error.js isOriginalGraphQLError: a GraphQLError that wraps no other Error.
  if (!(error instanceof GraphQLError)) return false;
  return error.originalError == null || isOriginalGraphQLError(error.originalError);
}

/**
 * `maskedErrors.maskError`: every error a client receives goes through it (HTTP, WebSocket,
 * request-level errors). Result: `extensions.code` is always one of the contract's codes.
 * - a subgraph that cannot be reached, is too slow, or answers something that is not a GraphQL
 *   response (gateway code RESPONSE_VALIDATION_FAILED: a 404, an HTML error page, neither data
 *   nor errors): SERVICE_UNAVAILABLE with serviceName and retryAfter, logged at error level;
 * - errors that already carry a contract code pass through (subgraph errors included);
 * - errors from a subgraph without a contract code: INTERNAL_SERVER_ERROR, message masked;
 * - request errors the client caused (parse, depth/token limits, bad variables, malformed HTTP
 *   request; validation errors get theirs in useValidationErrorCode): BAD_USER_INPUT, message kept;
 * - anything else (a thrown Error, a code-less error during execution): INTERNAL_SERVER_ERROR,
 *   message masked.
 * Internal details (`request`/`response` of a failed subgraph fetch, stack) never leave.
 */
export interface MaskOptions {
  /** APP_ENV=production: "Did you mean …?" suggestions are removed from messages. */
  production: boolean;
  log?: { error: (...a: unknown[]) => void };
}

/** Seconds a client is told to wait when a subgraph is down or too slow. */
export const UNAVAILABLE_RETRY_AFTER = 5;
const UNAVAILABLE_MESSAGE = 'A service is temporarily unavailable, try again shortly';

/** Node/undici error codes of a connection that could not be made or broke. */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT',
  'EPIPE', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);
/** Codes the gateway gives an upstream timeout (useUpstreamTimeout, executor-http). */
const TIMEOUT_CODES = new Set(['GATEWAY_TIMEOUT', 'TIMEOUT_ERROR']);
const CONNECTION_ERROR_MESSAGE =
  /^(fetch failed|connect E[A-Z]+|socket hang up|read ECONNRESET|write EPIPE|getaddrinfo E[A-Z]+|The operation was aborted due to timeout)/;

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  originalError?: unknown;
  extensions?: { code?: unknown; response?: { status?: unknown } };
}

/** Code @graphql-tools/executor-http gives a subgraph answer that is not a GraphQL response: a
 *  body that is not JSON ("Unexpected response: …"), JSON with neither `data` nor `errors`
 *  ("Unexpected empty "data" and "errors" fields in result: …"), or no body ("No response
 *  returned"), whatever the HTTP status. */
const NOT_GRAPHQL_CODE = 'RESPONSE_VALIDATION_FAILED';

/** Why a subgraph could not give a GraphQL answer: `unreachable` (refused, broken or too slow)
 *  or `not-graphql` (it answered, but not GraphQL: a misrouted URL, a proxy's error page, a
 *  misconfigured service), with the HTTP status it answered when known. */
export interface UpstreamFault {
  kind: 'unreachable' | 'not-graphql';
  status?: number;
}

/** The dependency fault an error (or what it wraps) stands for, if it is one. */
export function upstreamFault(error: unknown): UpstreamFault | undefined {
  let current: unknown = error;
  let notGraphQL: UpstreamFault | undefined;
  for (let i = 0; i < 8 && current != null && typeof current === 'object'; i++) {
    const e = current as ErrorLike;
    if (typeof e.code === 'string' && CONNECTION_ERROR_CODES.has(e.code)) return { kind: 'unreachable' };
    if (typeof e.extensions?.code === 'string' && TIMEOUT_CODES.has(e.extensions.code)) return { kind: 'unreachable' };
    if (e.name === 'TimeoutError') return { kind: 'unreachable' };
    if (typeof e.message === 'string' && CONNECTION_ERROR_MESSAGE.test(e.message)) return { kind: 'unreachable' };
    if (e.extensions?.code === NOT_GRAPHQL_CODE) {
      notGraphQL ??= { kind: 'not-graphql' };
      const status = e.extensions.response?.status;
      if (typeof status === 'number') notGraphQL.status = status;
    }
    current = e.originalError ?? e.cause;
  }
  return notGraphQL;
}

/** Whether an error (or what it wraps) says a subgraph could not be reached or was too slow. */
export function isUpstreamUnavailable(error: unknown): boolean {
  return upstreamFault(error)?.kind === 'unreachable';
}

/** At most this many characters of what a subgraph answered go to the log, never to a client. */
const EXCERPT_LENGTH = 120;

/** A short, single-line excerpt of a gateway error message for the log; what a subgraph answered
 *  is quoted in it, so it is cut short and stripped of control characters and anything that
 *  looks like a credential. */
function logExcerpt(message: string): string {
  const line = message
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/(bearer\s+|authorization["':=\s]+|token["':=\s]+|secret["':=\s]+|password["':=\s]+)\S+/gi, '$1[redacted]');
  return line.length > EXCERPT_LENGTH ? `${line.slice(0, EXCERPT_LENGTH)}…` : line;
}

/** graphql-js suggestions: `Did you mean "x"?`, `Did you mean the enum value "X"?`, lists. */
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

export function withoutSuggestions(message: string): string {
  return message.replace(SUGGESTION, '').trim();
}

/** What no response may carry, whatever produced the error. */
const INTERNAL_EXTENSIONS = ['originalError', 'stack', 'exception', 'stacktrace', 'request', 'response'];

/** Removes internals from an error in place, and suggestions in production. */
function scrub(error: GraphQLError, production: boolean): void {
  const ext = error.extensions as Record<string, unknown> | undefined;
  if (ext) for (const key of INTERNAL_EXTENSIONS) delete ext[key];
  if (production && error.message.includes('Did you mean')) error.message = withoutSuggestions(error.message);
}

/** The message of the deepest error in the chain that carries the gateway's not-GraphQL code
 *  (the outer one, made at the field, has an empty message). */
function innermostGatewayMessage(error: unknown): string | undefined {
  let current: unknown = error;
  let found: string | undefined;
  for (let i = 0; i < 8 && current != null && typeof current === 'object'; i++) {
    const e = current as ErrorLike;
    if (e.extensions?.code === NOT_GRAPHQL_CODE && typeof e.message === 'string' && e.message) found = e.message;
    current = e.originalError ?? e.cause;
  }
  return found;
}

export function maskError(error: unknown, _message: string, opts: MaskOptions): Error {
  const masked = maskErrorCode(error, opts.log);
  if (masked instanceof GraphQLError) scrub(masked, opts.production);
  return masked;
}

function maskErrorCode(error: unknown, log?: { error: (...a: unknown[]) => void }): Error {
  const ge = error instanceof GraphQLError ? error : undefined;
  const rebuild = (message: string, extensions: Record<string, unknown>) =>
    new GraphQLError(message, { nodes: ge?.nodes, path: ge?.path, extensions });

  // A subgraph that cannot be reached, refuses connections or does not answer in time, or whose
  // URL answers something that is not a GraphQL response (a 404, an HTML error page, a body with
  // neither data nor errors): a dependency fault, never the client's, so SERVICE_UNAVAILABLE.
  const fault = upstreamFault(error);
  if (fault) {
    const serviceName = (ge?.extensions as Record<string, unknown> | undefined)?.serviceName;
    if (fault.kind === 'unreachable') {
      log?.error({ message: ge?.message ?? String(error), serviceName }, '[errors] a subgraph is unavailable');
    } else {
      const message = logExcerpt(innermostGatewayMessage(error) ?? ge?.message ?? String(error));
      log?.error({ serviceName, status: fault.status, message }, '[errors] a subgraph answered something that is not GraphQL');
    }
    const extensions: Record<string, unknown> = { code: 'SERVICE_UNAVAILABLE', retryAfter: UNAVAILABLE_RETRY_AFTER };
    if (typeof serviceName === 'string') extensions.serviceName = serviceName;
    return rebuild(UNAVAILABLE_MESSAGE, extensions);
  }

  // A subgraph that rejects a WebSocket operation with a graphql-transport-ws `error` message:
  // @graphql-tools/executor-graphql-ws 3.2.0 rejects with the raw error array, which the gateway
  // wraps as the originalError of a message-less GraphQLError. Keep the subgraph's code.
  const original: unknown = ge?.originalError;
  if (isArray(original)) {
    const errors = original.map(asWireError);
    const coded = errors.find((e) => contractCodeOf(e) !== undefined);
    if (coded) return rebuild(String(coded.message ?? ''), { code: contractCodeOf(coded) });
    log?.error({ errors: errors.map((e) => String(e?.message)) }, '[errors] masked a subgraph WebSocket error without a contract code');
    return rebuild(INTERNAL_MESSAGE, { code: 'INTERNAL_SERVER_ERROR' });
  }

  if (!isOriginalGraphQLError(error)) {
    const cause = ge?.originalError ?? error;
    log?.error(
      { err: cause instanceof Error ? { name: cause.name, message: cause.message, stack: cause.stack } : String(cause) },
      '[errors] masked an unexpected error',
    );
    return rebuild(INTERNAL_MESSAGE, { code: 'INTERNAL_SERVER_ERROR' });
  }

  // Mutated in place where the error stays visible: Yoga logs every error maskError replaces.
  const ext = (error.extensions ?? {}) as Record<string, unknown>;
  const code = typeof ext.code === 'string' ? ext.code : undefined;
  const fromSubgraph = typeof ext.serviceName === 'string' || 'request' in ext || 'response' in ext;

  if (code && CONTRACT_CODES.has(code)) {
    delete ext.request; // a failed subgraph fetch carries the signed request body and the response
    delete ext.response;
    return error;
  }
  if (fromSubgraph) {
    log?.error({ code, message: error.message, serviceName: ext.serviceName }, '[errors] masked a subgraph error without a contract code');
    const kept: Record<string, unknown> = { code: 'INTERNAL_SERVER_ERROR' };
    if (typeof ext.serviceName === 'string') kept.serviceName = ext.serviceName;
    return rebuild(INTERNAL_MESSAGE, kept);
  }
  if (CLIENT_ERROR_CODES.has(code as string) || (code === undefined && error.path === undefined && CLIENT_ERROR_MESSAGE.test(error.message))) {
    // Request errors raised before execution: syntax, depth/token limits (graphql-armor says
    // "Syntax Error: ..."), variable coercion, operation selection, malformed HTTP request. The
    // `http` extension (status, Allow header) stays for the response; Yoga omits it from the
    // body. Other code-less errors (e.g. a failed upstream WebSocket connection, which arrives as
    // a path-less GraphQLError "connect ECONNREFUSED ...") fall through and are masked.
    ext.code = 'BAD_USER_INPUT';
    return error;
  }
  log?.error({ code, message: error.message }, '[errors] masked an error with a non-contract code');
  return rebuild(INTERNAL_MESSAGE, { code: 'INTERNAL_SERVER_ERROR' });
}
