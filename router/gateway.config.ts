// Hive Gateway 2.15.1 configuration for the payments BFF router. Everything comes from the
// environment (see src/settings.ts and docs/router.md). Start it from the repo root with
//
//   node router/node_modules/.bin/hive-gateway supergraph -c router/gateway.config.ts
//
// or from router/ with `node node_modules/.bin/hive-gateway supergraph` (the config is found in
// the current directory). A supergraph path argument and --port/--host (or the PORT/HOST
// variables, which the CLI reads itself) take precedence over SUPERGRAPH_PATH/ROUTER_PORT/
// ROUTER_HOST.
import { defineConfig, Logger, type TransportEntryAdditions } from '@graphql-hive/gateway';
import { unifiedGraphHandler } from '@graphql-hive/router-runtime';
import { createVerifier, JwksCache } from './src/jwt.ts';
import { loadSettings, SettingsError, SUBGRAPH_NAMES } from './src/settings.ts';
import { assertRuntimePatched } from './src/runtime-patch.ts';
import {
  maskError,
  type RouterContext,
  useAccessRules,
  useAccessTokens,
  useRequestIds,
  useResultScrubbing,
  useSubgraphOperationNames,
  useUpstreamSigning,
  useUpstreamValues,
  useValidationErrorCode,
} from './src/plugins.ts';
import {
  useOperationLimits,
  useRateLimit,
  useRequestPolicy,
  useSubscriptionLimits,
  useVariableChecks,
} from './src/guards.ts';
import { useAvatarProxy } from './src/avatars.ts';
import { graphiqlOptions, renderGraphiQL } from './src/graphiql.ts';
import { serveMetrics, useRouterMetrics } from './src/metrics.ts';
import { loadTrustedDocuments, persistedDocumentsOption, type TrustedDocuments } from './src/persisted.ts';
import { CSRF_HEADERS, signedPayload, useMultipartGuard } from './src/uploads.ts';
import { JsonLogWriter, useAccessLog } from './src/logging.ts';
import { setupTelemetry, useWebSocketTracing } from './src/telemetry.ts';

let settings: ReturnType<typeof loadSettings>;
let trusted: TrustedDocuments;
try {
  settings = loadSettings();
  if (settings.rustPlanner) assertRuntimePatched();
  trusted = loadTrustedDocuments(settings.persistedDocumentsPaths, {
    required: settings.trustedDocumentsOnly,
    warn: (message) => process.stderr.write(`router: warning: ${message}\n`),
  });
} catch (e) {
  if (e instanceof SettingsError) {
    process.stderr.write(`router: configuration error: ${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
for (const name of ['PORT', 'HOST'] as const) {
  if (process.env[name]) {
    process.stderr.write(
      `router: warning: ${name}=${process.env[name]} is set; the hive-gateway CLI gives it precedence over ROUTER_${name}\n`,
    );
  }
}

// Subgraph requests: the URL override (if any) per subgraph; subscriptions go over WebSocket
// (graphql-transport-ws) to the same URL with the ws:// scheme. The WebSocket connectionParams
// are interpolated from the operation's context, so each user (and each operation) gets its own
// upstream connection: @graphql-mesh/transport-ws 2.1.0 keys its connections by the
// interpolated connectionParams (dist/index.js `hash`), and a connection's connection_init
// is sent once.
const wsOptions = {
  connectionParams: {
    Authorization: '{context.upstream.authorization}',
    'x-request-id': '{context.upstream.requestId}',
    'x-router-signature': '{context.upstream.routerCredential}',
  },
};

const transportEntries: TransportEntryAdditions = {
  '*.http': {
    options: {
      // No in-flight de-duplication of identical subgraph queries: its key holds the request id
      // (propagateHeaders), so it could only ever merge identical fetches of one client request,
      // which neither planner makes; and it cost every query a key string of the whole body and
      // headers and a structuredClone of the result (@graphql-tools/executor-http 3.4.1
      // handleInflightRequest, lines 681-858).
      deduplicateInflightRequests: false,
      subscriptions: {
        kind: 'ws',
        // Headers of the upstream WebSocket upgrade request (the subgraph's request-id
        // middleware reads x-request-id there).
        headers: [
          ['x-request-id', '{context.upstream.requestId}'],
          ['x-forwarded-for', '{context.upstream.forwardedFor}'],
          // W3C trace context of the subgraph execution (the gateway's OpenTelemetry plugin
          // propagates it on HTTP fetches only).
          ['traceparent', '{context.upstream.traceparent}'],
        ],
        options: wsOptions,
      },
    },
  },
};
for (const name of SUBGRAPH_NAMES) {
  const url = settings.subgraphUrls[name];
  if (url) transportEntries[name] = { location: url };
}

// Honours LOG_LEVEL; LOG_JSON (default true) writes the one JSON shape of every process
// (src/logging.ts), else the gateway's console lines.
const logJson = !['false', '0', 'no', 'off'].includes((process.env.LOG_JSON ?? 'true').trim().toLowerCase());
const log = logJson ? new Logger({ writers: [new JsonLogWriter()] }) : new Logger();

// OpenTelemetry from the standard OTEL_* variables (src/telemetry.ts); nothing when no endpoint.
const tracing = await setupTelemetry(log.child('[router] '));
const PROBES = new Set(['/healthcheck', '/readiness']);

if (settings.metrics) {
  serveMetrics({ port: settings.metricsPort, host: settings.metricsHost, log: log.child('[router] ') });
}

const jwks = new JwksCache({ url: settings.jwksUrl, log: log.child('[router] ') });
const verify = createVerifier({
  jwks,
  issuer: settings.jwtIssuer,
  audience: settings.jwtAudience,
  clockToleranceSeconds: settings.jwtClockToleranceSeconds,
  log: log.child('[router] '),
});

export const gatewayConfig = defineConfig<RouterContext>({
  supergraph: settings.supergraphPath,
  port: settings.port,
  host: settings.host,
  transportEntries,
  logging: log,

  // Spans of the gateway's own OpenTelemetry plugin (HTTP request, GraphQL parse/validate/
  // execute, each subgraph execution and upstream fetch), continuing the client's traceparent
  // and propagating it to the subgraphs' HTTP requests; installed only while tracing.
  openTelemetry: tracing
    ? {
        traces: {
          spans: { http: ({ request }) => !PROBES.has(new URL(request.url, 'http://router').pathname) },
        },
      }
    : undefined,

  // Hive Router's Rust query planner and executor (@graphql-hive/router-runtime), the default
  // (ROUTER_RUST_PLANNER=false: the gateway's JavaScript stitching planner): a third less router
  // CPU per request. Its JavaScript executor is patched at install (router/patches/, applied by
  // patch-package in postinstall; an install fails when the patch no longer applies): each
  // subscription event is answered on its own, a null in a non-null position nulls its parent,
  // and an operation that ran always has `data` (docs/router.md, "The Rust query planner"). Its
  // plan cache is keyed by DocumentNode: no plugin may replace the document (src/plugins.ts
  // useAccessRules). It sends anonymous subgraph operations: useSubgraphOperationNames gives
  // them the client's name. A number literal beyond 2^53, which it could not hold, is refused
  // earlier (src/guards.ts numberLiteralsRule).
  ...(settings.rustPlanner ? { unifiedGraphHandler } : {}),

  // HMAC upstream signature: useUpstreamSigning (plugins:, first), not the gateway's
  // `hmacSignature` option (same bytes, without WebCrypto: src/plugins.ts).

  // File uploads (GraphQL multipart request spec), forwarded to the subgraph as multipart
  // (@graphql-tools/executor-http); bounded and CSRF-checked by useMultipartGuard.
  multipart: true,
  // The Rust planner batches entity fetches itself (BatchFetch plan nodes, one request per
  // subgraph and step): the gateway's batching executor (@graphql-tools/batch-execute, a
  // DataLoader per subgraph and request) only added a tick and its bookkeeping to each fetch.
  // The JavaScript planner keeps it: it merges the root fields it delegates one by one.
  ...(settings.rustPlanner ? { __experimental__batchExecution: false } : {}),

  // Headers for every subgraph HTTP request, and (WebSocket) in the subscribe payload's
  // extensions.headers. Values come from the context (useUpstreamValues), which covers
  // entity fetches made for a subscription as well.
  propagateHeaders: {
    fromClientToSubgraphs({ context }) {
      const u = context?.upstream;
      return {
        authorization: u?.authorization,
        'x-request-id': u?.requestId,
        'x-forwarded-for': u?.forwardedFor,
      };
    },
  },
  requestId: false, // replaced by useRequestIds (validates client ids, covers WebSocket)

  // Subgraph errors keep their extensions.code; their serviceName is added, no default code.
  subgraphErrors: { errorCode: false, subgraphNameProp: 'serviceName' },
  maskedErrors: {
    maskError: (error: unknown, message: string) =>
      maskError(error, message, { production: settings.isProduction, log: log.child('[router] ') }),
    isDev: false,
  },

  // Subgraph HTTP requests (queries, mutations, entity fetches) that take longer fail with
  // SERVICE_UNAVAILABLE (maskError). Subscriptions are long-lived: no timeout for them (the
  // gateway's timeout would end their stream).
  upstreamTimeout: ({ executionRequest }) =>
    executionRequest?.operationType === 'subscription' ? undefined : settings.upstreamTimeoutMs,

  maxDepth: settings.maxDepth,
  maxTokens: settings.maxTokens,
  blockFieldSuggestions: settings.isProduction,
  // The gateway turns `true` into `{}`; its type only admits the options object.
  disableIntrospection: settings.isProduction ? {} : undefined,
  // Development only: opens on an example operation and the headers to fill in (src/graphiql.ts).
  graphiql: settings.isProduction ? false : graphiqlOptions,
  renderGraphiQL,
  landingPage: !settings.isProduction,

  cors:
    settings.corsOrigins.length > 0
      ? {
          origin: settings.corsOrigins,
          credentials: true,
          allowedHeaders: ['content-type', 'authorization', 'x-request-id', ...CSRF_HEADERS],
          exposedHeaders: ['x-request-id'],
          methods: ['GET', 'POST', 'OPTIONS'],
          maxAge: 600,
        }
      : false,

  // Trusted documents: the MFEs' manifests, by sha256 (src/persisted.ts). Only those run when
  // ROUTER_TRUSTED_DOCUMENTS_ONLY is on (production default); otherwise any document too.
  persistedDocuments: persistedDocumentsOption(trusted, settings.trustedDocumentsOnly),

  healthCheckEndpoint: '/healthcheck',
  readinessCheckEndpoint: '/readiness',
  // Metrics: src/metrics.ts, on ROUTER_METRICS_PORT only (the gateway's `prometheus:` option is
  // not used: it serves on this port and labels by URL and client-chosen values).

  plugins: () => [
    // The client's operation name on anonymous subgraph operations (the Rust planner's).
    useSubgraphOperationNames(),
    // Every subgraph request, HTTP and WebSocket subscribe, carries extensions["hmac-signature"].
    // Files of a multipart request are signed as `null`, as the subgraph receives them in the
    // `operations` part (src/uploads.ts).
    useUpstreamSigning({ secret: settings.hmacSecret, serialize: signedPayload }),
    ...(settings.metrics ? [useRouterMetrics({
      // Operations the router knows: the configured names and the trusted documents'.
      knownOperationNames: new Set([...settings.metricsOperationNames, ...trusted.operationNames]),
    })] : []),
    useRequestIds(),
    // GET /avatars/<key>.webp from the profile subgraph: avatarUrl works on this origin.
    useAvatarProxy({
      profileUrl: settings.subgraphUrls.profile ?? 'http://127.0.0.1:4004/graphql',
      timeoutMs: settings.upstreamTimeoutMs,
    }),
    useAccessLog(log.child('[access] ')),
    useRequestPolicy({ graphqlPath: '/graphql' }),
    useMultipartGuard({ maxBytes: settings.maxUploadBytes }),
    useVariableChecks(),
    useOperationLimits(),
    useValidationErrorCode({ production: settings.isProduction }),
    useResultScrubbing({ production: settings.isProduction }),
    useAccessTokens(verify),
    ...(tracing ? [useWebSocketTracing()] : []),
    useUpstreamValues({ hmacSecret: settings.hmacSecret, trustProxy: settings.trustProxy }),
    useRateLimit({ perMinute: settings.apiRateLimitPerMinute }),
    useSubscriptionLimits({
      perConnection: settings.wsMaxSubscriptionsPerConnection,
      perUser: settings.wsMaxSubscriptionsPerUser,
    }),
    // @authenticated / @requiresScopes, after useAccessTokens (the user) and the rate limit;
    // checked once per document, not per request (src/plugins.ts useAccessRules).
    useAccessRules(),
  ],
});
