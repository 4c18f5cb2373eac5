// OpenTelemetry for the router, configured only by the standard OTEL_* variables, like every
// Python process (shared/telemetry.py):
// - OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) unset, OTEL_SDK_DISABLED
//   true or OTEL_TRACES_EXPORTER=none: nothing is loaded or registered (the gateway's
//   openTelemetry plugin is not installed either; see ../gateway.config.ts).
// - Set: an OTLP exporter for OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf, the default; http/json
//   is accepted too), reading the endpoint, headers and timeouts itself; a batch span processor
//   (OTEL_BSP_*); the SDK's sampler from OTEL_TRACES_SAMPLER/_ARG (default
//   parentbased_always_on); the resource from OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME
//   (default service.name bff-router); W3C trace context propagation; an AsyncLocalStorage
//   context manager so log lines and WebSocket upstream requests see the active span.
import type { GatewayPlugin, Logger } from '@graphql-hive/gateway';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

export const DEFAULT_SERVICE_NAME = 'bff-router';
const SUPPORTED_PROTOCOLS = ['http/protobuf', 'http/json'] as const;

const env = (name: string): string => (process.env[name] ?? '').trim();

/** Where traces go, or undefined when tracing is off. */
export function exportEndpoint(): string | undefined {
  if (env('OTEL_SDK_DISABLED').toLowerCase() === 'true' || env('OTEL_TRACES_EXPORTER') === 'none') return undefined;
  return env('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') || env('OTEL_EXPORTER_OTLP_ENDPOINT') || undefined;
}

let enabled = false;

// The gateway's plugin records the client's whole document (`graphql.document`, on the operation,
// parse and subgraph spans) and the request URL with its query string: a password or TOTP code
// written inline, or variables in a GET, would reach the collector. Dropped before export; the
// operation stays identified by `hive.graphql.operation.hash` and its name.
const DROPPED_ATTRIBUTES = new Set(['graphql.document', 'graphql.variables', 'url.query']);
const URL_ATTRIBUTES = new Set(['http.url', 'url.full', 'http.target']);

export function scrubAttributes(attributes: Attributes): Attributes {
  const kept: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (DROPPED_ATTRIBUTES.has(key)) continue;
    kept[key] = URL_ATTRIBUTES.has(key) && typeof value === 'string' ? value.split('?')[0] : value;
  }
  return kept;
}

/** Exports through `inner` what `scrubAttributes` leaves of each span's attributes. */
class ScrubbingExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    const scrubbed = spans.map(
      (span) => Object.create(span, { attributes: { value: scrubAttributes(span.attributes), enumerable: true } }) as ReadableSpan,
    );
    this.inner.export(scrubbed, done);
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** Whether this process records and exports traces. */
export function tracingEnabled(): boolean {
  return enabled;
}

/** Registers the SDK when an endpoint is configured; true when tracing is on. */
export async function setupTelemetry(log: Logger): Promise<boolean> {
  if (enabled) return true;
  if (exportEndpoint() === undefined) return false;
  const protocol = env('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') || env('OTEL_EXPORTER_OTLP_PROTOCOL') || 'http/protobuf';
  if (!(SUPPORTED_PROTOCOLS as readonly string[]).includes(protocol)) {
    log.error({ protocol, supported: SUPPORTED_PROTOCOLS }, 'OTEL_EXPORTER_OTLP_PROTOCOL is not supported here: traces are NOT exported');
    return false;
  }
  // Loaded only when tracing is on.
  const [{ openTelemetrySetup }, sdk, resources, { AsyncLocalStorageContextManager }] = await Promise.all([
    import('@graphql-hive/gateway/opentelemetry/setup'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/context-async-hooks'),
  ]);
  const { OTLPTraceExporter } =
    protocol === 'http/json'
      ? await import('@opentelemetry/exporter-trace-otlp-http')
      : await import('@opentelemetry/exporter-trace-otlp-proto');
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the default (merge: the argument wins).
  const resource = resources
    .resourceFromAttributes({ 'service.name': DEFAULT_SERVICE_NAME })
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new sdk.BasicTracerProvider({
    resource,
    // No sampler given: the SDK reads OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG.
    spanProcessors: [new sdk.BatchSpanProcessor(new ScrubbingExporter(new OTLPTraceExporter()))],
  });
  openTelemetrySetup({
    log,
    contextManager: new AsyncLocalStorageContextManager(),
    traces: { tracerProvider: provider },
    configureDiagLogger: false,
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    // Spans still batched when the router stops are sent first (bounded by the exporter timeout).
    process.once(signal, () => void provider.forceFlush().catch(() => undefined));
  }
  enabled = true;
  log.info({ serviceName: resource.attributes['service.name'], protocol }, 'tracing enabled');
  return true;
}

/** trace_id and span_id of the active span, for log lines. */
export function activeIds(): { trace_id: string; span_id: string } | undefined {
  if (!enabled) return undefined;
  const ctx = trace.getActiveSpan()?.spanContext();
  if (!ctx || !trace.isSpanContextValid(ctx)) return undefined;
  return { trace_id: ctx.traceId, span_id: ctx.spanId };
}

/** The W3C traceparent of the active span, else of `fallback` (empty when not traced): upstream
 *  WebSocket requests carry it, as the gateway's plugin adds it to upstream HTTP requests. */
export function activeTraceparent(fallback?: Span): string {
  if (!enabled) return '';
  let ctx = context.active();
  if (!trace.getSpan(ctx)?.isRecording() && fallback) ctx = trace.setSpan(ROOT_CONTEXT, fallback);
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent ?? '';
}

interface WebSocketContext {
  connectionParams?: unknown;
  request?: { headers?: { get?: (name: string) => string | null } };
  params?: { operationName?: unknown };
  wsSpan?: Span;
}

function traceparentOf(ctx: WebSocketContext): string | undefined {
  const params = ctx.connectionParams as Record<string, unknown> | null | undefined;
  const fromParams = params && typeof params === 'object' ? (params.traceparent ?? params.Traceparent) : undefined;
  if (typeof fromParams === 'string') return fromParams;
  return ctx.request?.headers?.get?.('traceparent') ?? undefined;
}

/**
 * The gateway's OpenTelemetry plugin (1.5.3) creates no span for operations received over
 * WebSocket. This adds one per operation (`graphql.operation <name>`, SERVER), continuing the
 * client's traceparent (connection_init payload key `traceparent`, browsers cannot set WebSocket
 * headers; else the upgrade request's header), ending when the operation's result or
 * subscription ends; it is the parent the payments subgraph's WebSocket connection continues
 * (context.upstream.traceparent). Register before useUpstreamValues. Nothing while tracing is off.
 */
export function useWebSocketTracing(): GatewayPlugin<WebSocketContext> {
  return {
    onContextBuilding({ context: ctx, extendContext }) {
      if (!enabled || ctx.connectionParams == null) return;
      const header = traceparentOf(ctx);
      const parent = header ? propagation.extract(ROOT_CONTEXT, { traceparent: header }) : ROOT_CONTEXT;
      const name = typeof ctx.params?.operationName === 'string' ? ctx.params.operationName : undefined;
      const span = trace.getTracer('gateway').startSpan(
        name ? `graphql.operation ${name}` : 'graphql.operation',
        { kind: SpanKind.SERVER, attributes: { 'network.protocol.name': 'websocket', ...(name ? { 'graphql.operation.name': name } : {}) } },
        parent,
      );
      extendContext({ wsSpan: span });
    },
    onExecute({ args }) {
      const span = args.contextValue.wsSpan;
      if (!span) return;
      return { onExecuteDone: () => void span.end() };
    },
    onSubscribe({ args }) {
      const span = args.contextValue.wsSpan;
      if (!span) return;
      span.setAttribute('graphql.operation.type', 'subscription');
      return {
        onSubscribeResult({ result }) {
          if (!(Symbol.asyncIterator in Object(result))) {
            if ((result as { errors?: unknown[] }).errors?.length) span.setStatus({ code: SpanStatusCode.ERROR });
            span.end();
            return;
          }
          return { onEnd: () => span.end() };
        },
        onSubscribeError() {
          span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        },
      };
    },
  };
}
