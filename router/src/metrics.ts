// Router metrics (Prometheus text), served on their own port (ROUTER_METRICS_PORT, default 9464,
// path /metrics), never on the public :4000. See docs/router.md "Metrics".
//
// Why not the gateway's `prometheus:` option (@graphql-mesh/plugin-prometheus 2.2.3)? It serves on
// the public port, and its default metrics label by the subgraph URL, the operation name and
// the request headers a client chooses: 2,000 requests with random query strings grew it from
// 0.9 MB to 7 MB. Every label here has a bounded set of values: no URL, query string, user id or
// free client text; `operation_name` is the client's name only when it is listed in
// ROUTER_METRICS_OPERATION_NAMES (the operations the router knows), else `other`.
import { createServer, type Server } from 'node:http';
import type { GatewayPlugin } from '@graphql-hive/gateway';
import { getOperationAST, type DocumentNode, type ExecutionResult } from 'graphql';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const SERVICE = 'router';
const OPERATION_TYPES = new Set(['query', 'mutation', 'subscription']);

export const operationsTotal = new Counter({
  name: 'bff_graphql_operations_total',
  help: 'GraphQL operations the router executed, by type, (known) name and outcome',
  labelNames: ['service', 'operation_type', 'operation_name', 'outcome'] as const,
  registers: [registry],
});

export const operationDuration = new Histogram({
  name: 'bff_graphql_operation_duration_seconds',
  help: 'Time to the first result of a GraphQL operation at the router',
  labelNames: ['service', 'operation_type'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const subgraphRequestsTotal = new Counter({
  name: 'bff_router_subgraph_requests_total',
  help: 'Requests the router sent a subgraph, by subgraph and outcome',
  labelNames: ['subgraph', 'outcome'] as const,
  registers: [registry],
});

export const subgraphRequestDuration = new Histogram({
  name: 'bff_router_subgraph_request_duration_seconds',
  help: 'Duration of the requests the router sent a subgraph',
  labelNames: ['subgraph'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const httpResponsesTotal = new Counter({
  name: 'bff_router_http_responses_total',
  help: 'HTTP responses of the router, by status code',
  labelNames: ['status'] as const,
  registers: [registry],
});

export const rejectedTotal = new Counter({
  name: 'bff_router_rejected_requests_total',
  help: 'Requests the router refused before executing them, by reason',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export const liveSubscriptions = new Gauge({
  name: 'bff_live_subscriptions',
  help: 'Live subscriptions (WebSocket and SSE) on this router process',
  labelNames: ['service'] as const,
  registers: [registry],
});
liveSubscriptions.set({ service: SERVICE }, 0);

/** Reasons for `bff_router_rejected_requests_total`: a fixed list. */
export type RejectReason =
  | 'content_type'
  | 'variables'
  | 'operation_limits'
  | 'rate_limited'
  | 'subscription_limit';

export function countRejected(reason: RejectReason): void {
  rejectedTotal.inc({ reason });
}

function operationLabels(
  document: DocumentNode,
  operationName: string | null | undefined,
  known: ReadonlySet<string>,
): { operation_type: string; operation_name: string } {
  const op = getOperationAST(document, operationName ?? undefined);
  const type = op && OPERATION_TYPES.has(op.operation) ? op.operation : 'other';
  const name = op?.name?.value;
  return { operation_type: type, operation_name: name && known.has(name) ? name : 'other' };
}

function outcomeOf(result: unknown): 'success' | 'error' {
  const errors = (result as ExecutionResult | null)?.errors;
  return Array.isArray(errors) && errors.length > 0 ? 'error' : 'success';
}

/** `make(key)` once per key: prom-client hashes (sorts) a label object on every call, a child
 *  bound to its labels does not. The keys are bounded like the labels themselves. */
function memo<T>(make: (key: string) => T): (key: string) => T {
  const known = new Map<string, T>();
  return (key) => {
    let value = known.get(key);
    if (value === undefined) {
      value = make(key);
      known.set(key, value);
    }
    return value;
  };
}

/** Counts operations (envelop execute/subscribe), subgraph requests and HTTP responses. */
export function useRouterMetrics(opts: { knownOperationNames: ReadonlySet<string> }): GatewayPlugin {
  // Labels of an operation depend on the document and the operation name only.
  const labelsByDocument = new WeakMap<DocumentNode, Map<string, { operation_type: string; operation_name: string }>>();
  const labelsOf = (document: DocumentNode, operationName: string | null | undefined) => {
    let byName = labelsByDocument.get(document);
    if (!byName) {
      byName = new Map();
      labelsByDocument.set(document, byName);
    }
    const key = operationName ?? '';
    let labels = byName.get(key);
    if (!labels) {
      labels = operationLabels(document, operationName, opts.knownOperationNames);
      byName.set(key, labels);
    }
    return labels;
  };
  const durationOf = memo((type) => operationDuration.labels({ service: SERVICE, operation_type: type }));
  const operationsOf = memo((key) => {
    const [type, name, outcome] = key.split('\n');
    return operationsTotal.labels({ service: SERVICE, operation_type: type, operation_name: name, outcome });
  });
  const subgraphDurationOf = memo((subgraph) => subgraphRequestDuration.labels({ subgraph }));
  const subgraphRequestsOf = memo((key) => {
    const [subgraph, outcome] = key.split('\n');
    return subgraphRequestsTotal.labels({ subgraph, outcome });
  });
  const responsesOf = memo((status) => httpResponsesTotal.labels({ status }));

  const observe = (document: DocumentNode, operationName: string | null | undefined) => {
    const labels = labelsOf(document, operationName);
    const end = durationOf(labels.operation_type).startTimer();
    return (result: unknown) => {
      end();
      operationsOf(`${labels.operation_type}\n${labels.operation_name}\n${outcomeOf(result)}`).inc();
    };
  };
  return {
    onExecute({ args }) {
      const done = observe(args.document, args.operationName);
      return {
        onExecuteDone({ result }) {
          done(Symbol.asyncIterator in Object(result) ? null : result);
        },
      };
    },
    onSubscribe({ args }) {
      const done = observe(args.document, args.operationName);
      return {
        onSubscribeResult({ result }) {
          done(Symbol.asyncIterator in Object(result) ? null : result);
        },
      };
    },
    onSubgraphExecute({ subgraphName }) {
      const end = subgraphDurationOf(subgraphName).startTimer();
      return ({ result }) => {
        end();
        const outcome = Symbol.asyncIterator in Object(result) ? 'success' : outcomeOf(result);
        subgraphRequestsOf(`${subgraphName}\n${outcome}`).inc();
      };
    },
    onResponse({ response }) {
      const status = response.status;
      responsesOf(status >= 100 && status < 600 ? String(status) : 'other').inc();
    },
  };
}

/** Serves `registry` at GET /metrics on its own port; everything else is 404. */
export function serveMetrics(opts: {
  port: number;
  host: string;
  log: { info: (...a: unknown[]) => void; error: (...a: unknown[]) => void };
}): Server {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        opts.log.error({ err: String(err) }, '[metrics] could not render the metrics');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  server.on('error', (err) => opts.log.error({ err: String(err) }, '[metrics] server error'));
  server.listen(opts.port, opts.host, () => {
    opts.log.info(`[metrics] Prometheus metrics at http://${opts.host}:${opts.port}/metrics`);
  });
  server.unref(); // never keeps the router alive on its own
  return server;
}
