// The router's log lines in the shape every Python process writes (shared/logging.py), one JSON
// object a line on stdout:
//
//   {"timestamp", "level", "service": "router", "logger", "message", "request_id", "trace_id",
//    "span_id", ...the line's own attributes}
//
// request_id, trace_id and span_id are always present (null outside a request or a trace).
// Nothing secret is written: attributes named like credentials, bodies, headers or connection
// parameters are dropped wherever they are nested (a failed subgraph fetch carries the signed
// request body, a WebSocket debug line the connectionParams with the access token), stacks are
// dropped, and an Error keeps its name and message only.
// useAccessLog writes one line per HTTP request.
import type { Attributes, GatewayPlugin, LogLevel, LogWriter } from '@graphql-hive/gateway';
import { trace } from '@opentelemetry/api';
import { getOperationAST } from 'graphql';
import { activeIds } from './telemetry.ts';

const SECRET_KEYS = new Set([
  'authorization',
  'body',
  'connectionparams',
  'cookie',
  'document',
  'headers',
  'hmac-signature',
  'password',
  'payload',
  'query',
  'request',
  'response',
  'secret',
  'signature', // the HMAC upstream plugin logs each signature at debug level
  'stack',
  'stacktrace',
  'token',
  'variables',
  'x-router-signature',
]);

const MAX_DEPTH = 6;

function clean(value: unknown, depth = 0): unknown {
  if (value == null || typeof value !== 'object') {
    return typeof value === 'bigint' ? String(value) : value;
  }
  if (depth >= MAX_DEPTH) return '[...]';
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (Array.isArray(value)) return value.map((v) => clean(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (SECRET_KEYS.has(key.toLowerCase())) continue;
    out[key] = clean(v, depth + 1);
  }
  return out;
}

/** Keys every line has; a line's own attributes cannot overwrite them. */
const RESERVED = new Set(['timestamp', 'level', 'service', 'logger', 'message', 'request_id', 'trace_id', 'span_id']);

const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export class JsonLogWriter implements LogWriter {
  constructor(private readonly write_: (line: string) => void = (line) => process.stdout.write(line)) {}

  write(level: LogLevel, attrs: Attributes | null | undefined, msg: string | null | undefined): void {
    const attributes = (Array.isArray(attrs) ? { attrs } : (attrs ?? {})) as Record<string, unknown>;
    const ids = activeIds();
    const requestId = attributes.requestId;
    const entry: Record<string, unknown> = {
      timestamp: new Date().toISOString(),
      level: level === 'warn' ? 'warning' : level,
      service: 'router',
      logger: 'router',
      message: msg ?? '',
      request_id: typeof requestId === 'string' ? requestId : null,
      trace_id: ids?.trace_id ?? stringOrNull(attributes.trace_id),
      span_id: ids?.span_id ?? stringOrNull(attributes.span_id),
    };
    const extra = clean(attributes) as Record<string, unknown>;
    for (const [key, value] of Object.entries(extra)) {
      if (key !== 'requestId' && !RESERVED.has(key)) entry[key] = value;
    }
    let line: string;
    try {
      line = JSON.stringify(entry);
    } catch {
      line = JSON.stringify({ ...entry, ...Object.fromEntries(Object.keys(extra).map((k) => [k, '[unserialisable]'])) });
    }
    this.write_(line + '\n');
  }
}

const QUIET_PATHS = new Set(['/healthcheck', '/readiness']);

interface AccessLog {
  debug: (attrs: Record<string, unknown>, msg: string) => void;
  info: (attrs: Record<string, unknown>, msg: string) => void;
  /** The gateway Logger's level (`false`: off); a logger without one logs everything. */
  readonly level?: LogLevel | false;
}

const LEVEL_ORDER: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

/** Whether `log` writes info lines now (the level may change at run time). */
function infoEnabled(log: AccessLog): boolean {
  const level = log.level;
  if (level === undefined) return true;
  return level !== false && LEVEL_ORDER[level] <= LEVEL_ORDER.info;
}

interface Started {
  at: number;
  traceId?: string;
  spanId?: string;
  operationName?: string;
}

/**
 * One access-log line per HTTP request: method, path (no query string), status, duration_ms, the
 * GraphQL operation name, request id and the ids of the request's span. No header, token or body.
 * Probes (/healthcheck, /readiness) are logged at debug. Register after useRequestIds (which
 * puts the request id on the request's logger).
 */
export function useAccessLog(log: AccessLog): GatewayPlugin {
  const started = new WeakMap<Request, Started>();
  return {
    onRequest({ request }) {
      // Nothing to do when the line would not be written (LOG_LEVEL warn or above; probes are
      // logged at debug, which is below info): no timing, no span lookup, no URL parse.
      if (!infoEnabled(log)) return;
      const ctx = trace.getActiveSpan()?.spanContext();
      started.set(request, {
        at: performance.now(),
        traceId: ctx && trace.isSpanContextValid(ctx) ? ctx.traceId : undefined,
        spanId: ctx && trace.isSpanContextValid(ctx) ? ctx.spanId : undefined,
      });
    },
    onExecute({ args }) {
      // The operation run (named by the client or, when alone, by its document).
      const request = (args.contextValue as { request?: Request }).request;
      const entry = request ? started.get(request) : undefined;
      if (!entry) return;
      const name = getOperationAST(args.document, args.operationName)?.name?.value;
      if (name) entry.operationName = name.slice(0, 100);
    },
    onResponse({ request, response, serverContext }) {
      const entry = started.get(request);
      if (!entry) return;
      const path = new URL(request.url, 'http://router').pathname;
      const requestId = response.headers.get('x-request-id') ?? undefined;
      const logger = (serverContext as { log?: AccessLog } | undefined)?.log ?? log;
      const line = {
        requestId,
        method: request.method,
        path: path.slice(0, 200),
        status: response.status,
        duration_ms: Math.round((performance.now() - entry.at) * 100) / 100,
        operation_name: entry.operationName ?? null,
        // The request's span, when the line is written after it ended.
        ...(entry.traceId ? { trace_id: entry.traceId, span_id: entry.spanId } : {}),
      };
      if (QUIET_PATHS.has(path)) logger.debug(line, 'request');
      else logger.info(line, 'request');
    },
  };
}
