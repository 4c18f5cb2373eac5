// File uploads (GraphQL multipart request spec) through the router. Wired in ../gateway.config.ts;
// see docs/router.md "File uploads".
//
// - Yoga parses `multipart/form-data` requests (gateway option `multipart: true`; the gateway's
//   default is off) into variables holding File objects;
// - @graphql-tools/executor-http (createFormDataFromVariables) sends a subgraph request whose
//   variables contain a File as multipart again: `operations` (JSON, each file replaced by `null`),
//   `map`, and one part per file;
// - the HMAC upstream signature must then cover what the subgraph can recompute: the default
//   serializer would JSON-encode the File object itself (its internal fields, its bytes as
//   {"0":..,"1":..}, its lastModified). `signedPayload` signs the variables with every file
//   replaced by `null`, exactly as they appear in `operations`;
// - `useMultipartGuard` bounds multipart request bodies and requires a CSRF header on them.
import { defaultExecutionRequestSerializer, type GatewayPlugin } from '@graphql-hive/gateway';
import { GraphQLError } from 'graphql';

type ExecutionRequest = Parameters<typeof defaultExecutionRequestSerializer>[0];

/** The properties isExtractable probes; any object may have them. */
interface MaybeFileLike {
  promise?: unknown;
  then?: unknown;
  arrayBuffer?: unknown;
  [Symbol.asyncIterator]?: unknown;
}

/** The predicate @graphql-tools/executor-http uses to extract files (dist/index.js, line ~268). */
function isExtractable(value: unknown): boolean {
  if (value == null || typeof value !== 'object') return false;
  const v = value as MaybeFileLike;
  return (
    (typeof File !== 'undefined' && v instanceof File) ||
    (typeof Blob !== 'undefined' && v instanceof Blob) ||
    Boolean(v.promise) ||
    typeof v[Symbol.asyncIterator] === 'function' ||
    Boolean(v.then) ||
    typeof v.arrayBuffer === 'function'
  );
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v == null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** `value` with every file replaced by `null` (what the subgraph receives in `operations`). */
export function uploadsAsNull(value: unknown): unknown {
  if (isExtractable(value)) return null;
  if (Array.isArray(value)) return value.map(uploadsAsNull);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key in value) out[key] = uploadsAsNull(value[key]);
    return out;
  }
  return value;
}

/** What useUpstreamSigning signs (src/plugins.ts): the default payload, files signed as `null`. */
export function signedPayload(executionRequest: ExecutionRequest): string {
  const variables = executionRequest.variables;
  const payload =
    variables == null
      ? defaultExecutionRequestSerializer(executionRequest)
      : defaultExecutionRequestSerializer({
          ...executionRequest,
          variables: uploadsAsNull(variables) as Record<string, unknown>,
        });
  // Declared `string | undefined`, but json-stable-stringify of an object is always a string.
  // '' keeps the signature the gateway would compute anyway: its TextEncoder encodes undefined
  // as empty bytes.
  return payload ?? '';
}

export const CSRF_HEADERS = ['apollo-require-preflight', 'x-graphql-csrf'];

function requestError(message: string, status: number, close = false): GraphQLError {
  // BAD_USER_INPUT with an HTTP status (Yoga uses `extensions.http` and leaves it out of the body).
  // `close`: the rest of the body is never read, so the connection cannot serve another request.
  const http = close ? { status, headers: { connection: 'close' } } : { status };
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', http } });
}

async function readLimited(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      reader.releaseLock();
      throw requestError(`Request body too large (multipart limit ${limit} bytes)`, 413, true);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * For `multipart/form-data` requests:
 * - a CSRF header (`apollo-require-preflight` or `x-graphql-csrf`, any value) is required: a
 *   browser sends a cross-site multipart POST without a CORS preflight, a custom header forces one;
 * - the body may be at most `maxBytes`: a larger `Content-Length` is refused at once, otherwise
 *   the body is read up to the limit before the multipart parser sees it (chunked bodies too).
 * Yoga's own limit (25 MB, not configurable through the gateway) still applies to other bodies.
 */
export function useMultipartGuard(opts: { maxBytes: number }): GatewayPlugin {
  return {
    onRequestParse({ request, setRequestParser, requestParser, fetchAPI }) {
      const contentType = String(request.headers.get('content-type') ?? '').toLowerCase();
      if (request.method !== 'POST' || !contentType.startsWith('multipart/form-data')) return;
      if (!CSRF_HEADERS.some((name) => request.headers.has(name))) {
        throw requestError(
          `Multipart requests must carry one of the headers ${CSRF_HEADERS.join(', ')} (CSRF protection)`,
          400,
        );
      }
      const declared = request.headers.get('content-length');
      if (declared != null && /^\d+$/.test(declared) && Number(declared) > opts.maxBytes) {
        throw requestError(`Request body too large (multipart limit ${opts.maxBytes} bytes)`, 413);
      }
      if (!requestParser || !request.body) return;
      const parse = requestParser;
      setRequestParser(async (req: Request) => {
        const body = await readLimited(req.body as ReadableStream<Uint8Array>, opts.maxBytes);
        const headers = new fetchAPI.Headers(req.headers);
        headers.set('content-length', String(body.byteLength));
        return parse(new fetchAPI.Request(req.url, { method: req.method, headers, body }));
      });
    },
  };
}
