// What the router refuses before a subgraph sees it, and the limits it keeps: request shapes
// (CSRF), variables the signature scheme cannot carry, operation size, request rate, live
// subscriptions. Wired in ../gateway.config.ts; see docs/router.md "Requests the router accepts",
// "Rate limit" and "Subscription limits".
import type { GatewayPlugin } from '@graphql-hive/gateway';
import {
  getNamedType,
  GraphQLError,
  isSpecifiedScalarType,
  Kind,
  type ASTNode,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';
import { countRejected, liveSubscriptions } from './metrics.ts';
import type { RouterContext } from './plugins.ts';

interface RemoteEnd {
  remoteAddress?: string;
}

/** What the hive-gateway CLI's Node server adds to the context (see plugins.ts). */
interface NodeServerContext {
  req?: { socket?: RemoteEnd };
  socket?: object & RemoteEnd;
}

type GuardPlugin = GatewayPlugin<RouterContext & NodeServerContext>;

function badInput(message: string, status?: number): GraphQLError {
  return new GraphQLError(message, {
    extensions: status ? { code: 'BAD_USER_INPUT', http: { status } } : { code: 'BAD_USER_INPUT' },
  });
}

function errorResponse(
  fetchAPI: { Response: typeof Response },
  status: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  const body = JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_USER_INPUT' } }] });
  return new fetchAPI.Response(body, { status, headers: { 'content-type': 'application/json', ...headers } });
}

// ----------------------------------------------------------------------------- request shapes

/**
 * GraphQL over HTTP as the contract allows it (CSRF protection):
 * - POST only with `content-type: application/json` (any charset parameter), or
 *   `multipart/form-data` (file uploads; useMultipartGuard then requires a CSRF header);
 *   anything else (`application/x-www-form-urlencoded`, `text/plain`, `application/graphql`, no
 *   content type): HTTP 415, nothing parsed or executed. Those are the "simple" content types a
 *   browser posts cross-site without a CORS preflight.
 * - GET for queries only: Yoga refuses a mutation over GET itself (HTTP 405 "Can only perform a
 *   mutation operation from a POST request", before execution; tested end to end).
 * WebSocket operations do not pass through onRequest (the upgrade is handled by graphql-ws).
 */
export function useRequestPolicy(opts: { graphqlPath: string }): GuardPlugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== 'POST' || url.pathname !== opts.graphqlPath) return;
      const mediaType = String(request.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
      if (mediaType === 'application/json' || mediaType === 'multipart/form-data') return;
      countRejected('content_type');
      endResponse(
        errorResponse(
          fetchAPI,
          415,
          'Unsupported content type: send GraphQL requests as application/json (or multipart/form-data with a CSRF header for uploads)',
          { accept: 'application/json' },
        ),
      );
    },
  };
}

// ----------------------------------------------------------------------------- variables

export const MAX_VARIABLE_DEPTH = 64;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why variables are refused, or undefined when they are fine. Iterative (no recursion, so no
 * RangeError however deep the input). Refused, as BAD_USER_INPUT, because the router could not
 * forward them faithfully or sign them so that a subgraph can verify the signature:
 * - nesting deeper than MAX_VARIABLE_DEPTH;
 * - a `__proto__` key (JSON.parse makes it an own property; copying or re-serialising it turns it
 *   into a prototype, so the router and the subgraph would disagree about the variables);
 * - a number beyond JavaScript's exact integer range (2^53): JSON.parse has already rounded it,
 *   and literals like 1e+21 are re-serialised differently by the subgraph;
 * - a string or key with an unpaired UTF-16 surrogate (not valid UTF-8 for the subgraph).
 * Files (multipart uploads) are leaves.
 */
export function variablesProblem(variables: unknown): string | undefined {
  const stack: [unknown, number][] = [[variables, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (typeof value === 'number') {
      if (!Number.isFinite(value) || Math.abs(value) > Number.MAX_SAFE_INTEGER) {
        return 'Variables contain a number outside the supported range (at most 2^53 in magnitude)';
      }
      continue;
    }
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) return 'Variables contain a string that is not valid Unicode';
      continue;
    }
    if (value == null || typeof value !== 'object') continue;
    if (typeof Blob !== 'undefined' && value instanceof Blob) continue; // an uploaded file
    if (depth >= MAX_VARIABLE_DEPTH) {
      return `Variables are nested too deeply (at most ${MAX_VARIABLE_DEPTH} levels)`;
    }
    if (Array.isArray(value)) {
      for (const item of value) stack.push([item, depth + 1]);
      continue;
    }
    for (const key of Object.keys(value)) {
      if (key === '__proto__') return 'Variables contain the reserved key "__proto__"';
      if (LONE_SURROGATE.test(key)) return 'Variables contain a key that is not valid Unicode';
      stack.push([(value as Record<string, unknown>)[key], depth + 1]);
    }
  }
  return undefined;
}

/**
 * A validation rule: a number literal in the document beyond JavaScript's exact integer range
 * (an integer or float literal of more than 2^53 in magnitude, or one that is not finite) is
 * refused with BAD_USER_INPUT, as the same number in the variables is. Such a literal can only
 * reach a custom scalar (JSON): `Int` and `Float` arguments refuse it in validation already. The
 * gateway would pass it on rounded, and the Rust query planner cannot hold an integer beyond 64
 * bits at all (it answered INTERNAL_SERVER_ERROR). Within the range, the Rust planner prints a
 * literal as the number it denotes (`2.0` as `2`, `1e3` as `1000`, object keys sorted), as a
 * number in the variables reaches the subgraph: the JSON value is kept, not its spelling.
 */
export function numberLiteralsRule(context: ValidationContext): ASTVisitor {
  const refuse = (node: ASTNode) => {
    countRejected('variables');
    context.reportError(
      new GraphQLError('The document contains a number outside the supported range (at most 2^53 in magnitude)', {
        nodes: [node],
        extensions: { code: 'BAD_USER_INPUT' },
      }),
    );
  };
  // Int and Float positions refuse such literals with graphql-js's own message already.
  const checkedByGraphQL = () => {
    const type = getNamedType(context.getInputType());
    return type != null && isSpecifiedScalarType(type) && (type.name === 'Int' || type.name === 'Float');
  };
  return {
    IntValue(node) {
      if (checkedByGraphQL()) return;
      // Digits only (and a sign): BigInt is exact at any length.
      const n = BigInt(node.value);
      if (n > MAX_SAFE || n < -MAX_SAFE) refuse(node);
    },
    FloatValue(node) {
      if (checkedByGraphQL()) return;
      // The variables' rule: a float beyond 2^53 (1e19) would reach the subgraph as an integer.
      const n = Number(node.value);
      if (!Number.isFinite(n) || Math.abs(n) > Number.MAX_SAFE_INTEGER) refuse(node);
    },
  };
}
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Refuses variables `variablesProblem` objects to (HTTP and WebSocket operations), and number
 *  literals beyond the same range in the document (`numberLiteralsRule`). */
export function useVariableChecks(): GuardPlugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(numberLiteralsRule);
    },
    onParams({ params, setResult }) {
      const problem = variablesProblem(params.variables);
      if (problem) {
        countRejected('variables');
        setResult({ errors: [badInput(problem, 400)] });
      }
    },
  };
}

// ----------------------------------------------------------------------------- operation size

export interface OperationLimits {
  /** Most aliased fields in one operation (fragments counted where they are spread). */
  maxAliases: number;
  /** Most root fields of one operation. */
  maxRootFields: number;
  /** Most root fields of one mutation (each may be expensive: an upload, a payment). */
  maxRootMutationFields: number;
}

export const OPERATION_LIMITS: OperationLimits = { maxAliases: 30, maxRootFields: 30, maxRootMutationFields: 10 };

interface Counts {
  aliases: number;
  fields: number; // fields directly in this selection set (fragments at this level included)
}

/** A validation rule: an operation over the limits is refused with BAD_USER_INPUT. */
export function operationLimitsRule(limits: OperationLimits) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) {
      if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    }
    // Aliases inside each fragment, expanded; a fragment seen again while being expanded (a
    // cycle, which validation reports on its own) counts nothing. Capped: the counts only need
    // to pass the limits.
    const cap = 1_000_000;
    const fragmentAliases = new Map<string, number>();
    const expanding = new Set<string>();

    const aliasesIn = (set: SelectionSetNode | undefined): number => {
      if (!set) return 0;
      let n = 0;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          if (sel.alias) n += 1;
          n += aliasesIn(sel.selectionSet);
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          n += aliasesIn(sel.selectionSet);
        } else {
          n += aliasesOfFragment(sel.name.value);
        }
        if (n > cap) return cap;
      }
      return n;
    };
    const aliasesOfFragment = (name: string): number => {
      const known = fragmentAliases.get(name);
      if (known !== undefined) return known;
      const def = fragments.get(name);
      if (!def || expanding.has(name)) return 0;
      expanding.add(name);
      const n = aliasesIn(def.selectionSet);
      expanding.delete(name);
      fragmentAliases.set(name, n);
      return n;
    };
    const rootFields = (set: SelectionSetNode, seen: Set<string>): number => {
      let n = 0;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) n += 1;
        else if (sel.kind === Kind.INLINE_FRAGMENT) n += rootFields(sel.selectionSet, seen);
        else {
          const def = fragments.get(sel.name.value);
          if (def && !seen.has(def.name.value)) {
            seen.add(def.name.value);
            n += rootFields(def.selectionSet, seen);
            seen.delete(def.name.value);
          }
        }
        if (n > cap) return cap;
      }
      return n;
    };

    const refuse = (node: OperationDefinitionNode, message: string) => {
      countRejected('operation_limits');
      context.reportError(new GraphQLError(message, { nodes: [node], extensions: { code: 'BAD_USER_INPUT' } }));
    };

    return {
      OperationDefinition(node) {
        const counts: Counts = { aliases: aliasesIn(node.selectionSet), fields: rootFields(node.selectionSet, new Set()) };
        if (counts.aliases > limits.maxAliases) {
          refuse(node, `Too many aliased fields: ${counts.aliases} (at most ${limits.maxAliases} per operation)`);
        } else if (node.operation === 'mutation' && counts.fields > limits.maxRootMutationFields) {
          refuse(node, `Too many mutation fields: ${counts.fields} (at most ${limits.maxRootMutationFields} per operation)`);
        } else if (counts.fields > limits.maxRootFields) {
          refuse(node, `Too many root fields: ${counts.fields} (at most ${limits.maxRootFields} per operation)`);
        }
        return false; // nothing below needs visiting
      },
    };
  };
}

export function useOperationLimits(limits: OperationLimits = OPERATION_LIMITS): GuardPlugin {
  const rule = operationLimitsRule(limits);
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(rule);
    },
  };
}

// ----------------------------------------------------------------------------- rate limit

function addressOf(context: NodeServerContext & RouterContext): string {
  // The address the upstream X-Forwarded-For names last is this router's own view of the client
  // (with ROUTER_TRUST_PROXY the proxies' chain is in front of it: its first entry is the client).
  const forwarded = context.upstream?.forwardedFor;
  if (forwarded) return forwarded.split(',')[0].trim();
  const addr = context.req?.socket?.remoteAddress ?? context.socket?.remoteAddress;
  return typeof addr === 'string' && addr !== '' ? addr : 'unknown';
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * A token bucket per caller (`user:<sub>` for a verified token, else `ip:<address>`): `perMinute`
 * operations at once, refilled at perMinute/60 per second. Kept in this process's memory: with
 * N router replicas a caller gets up to N times the limit (docs/router.md "Rate limit").
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly ratePerMs: number;
  private lastSweep = 0;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.ratePerMs = perMinute / 60_000;
  }

  /** 0 when allowed (and counted), else the seconds to wait before the next one is allowed. */
  take(key: string): number {
    const now = this.now();
    this.sweep(now);
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, updatedAt: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.updatedAt) * this.ratePerMs);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerMs / 1000));
  }

  /** Forget full buckets (callers idle for a minute or more), at most once a minute. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updatedAt) * this.ratePerMs >= this.perMinute) this.buckets.delete(key);
    }
  }
}

export function rateLimitedError(retryAfter: number, message: string, status?: number): GraphQLError {
  const extensions: Record<string, unknown> = { code: 'RATE_LIMITED', retryAfter };
  if (status) extensions.http = { status, headers: { 'retry-after': String(retryAfter) } };
  return new GraphQLError(message, { extensions });
}

/** API_RATE_LIMIT_PER_MINUTE per user (per IP when anonymous), for every operation. */
export function useRateLimit(opts: { perMinute: number }): GuardPlugin {
  const limiter = new RateLimiter(opts.perMinute);
  const check = (context: RouterContext & NodeServerContext): GraphQLError | undefined => {
    const sub = context.jwt?.payload.sub;
    const retryAfter = limiter.take(sub ? `user:${sub}` : `ip:${addressOf(context)}`);
    if (retryAfter === 0) return undefined;
    countRejected('rate_limited');
    return rateLimitedError(retryAfter, 'Too many requests, try again later', 429);
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = check(args.contextValue);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = check(args.contextValue);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}

// ----------------------------------------------------------------------------- subscriptions

/**
 * At most `perConnection` live subscriptions per WebSocket connection and `perUser` per user
 * (verified token's `sub`) across this router's connections; the one beyond ends at once with
 * RATE_LIMITED, the others keep running. A slot is taken when the subscription starts and given
 * back when it ends (complete from the client, end of the stream, error, closed connection).
 */
export function useSubscriptionLimits(opts: { perConnection: number; perUser: number }): GuardPlugin {
  const byConnection = new WeakMap<object, number>();
  const byUser = new Map<string, number>();
  let live = 0;
  const update = () => liveSubscriptions.set({ service: 'router' }, live);

  return {
    onSubscribe({ args, setResultAndStopExecution }) {
      const context = args.contextValue;
      const connection = context.connectionParams != null && context.socket ? context.socket : undefined;
      const user = context.jwt?.payload.sub;
      const onConnection = connection ? (byConnection.get(connection) ?? 0) : 0;
      const ofUser = user ? (byUser.get(user) ?? 0) : 0;
      let refusal: string | undefined;
      if (connection && onConnection >= opts.perConnection) {
        refusal = `Too many subscriptions on this connection (at most ${opts.perConnection})`;
      } else if (user && ofUser >= opts.perUser) {
        refusal = `Too many subscriptions for this user (at most ${opts.perUser})`;
      }
      if (refusal) {
        countRejected('subscription_limit');
        setResultAndStopExecution({ errors: [rateLimitedError(5, refusal)] });
        return;
      }
      if (connection) byConnection.set(connection, onConnection + 1);
      if (user) byUser.set(user, ofUser + 1);
      live += 1;
      update();
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        live -= 1;
        update();
        if (connection) {
          const n = (byConnection.get(connection) ?? 1) - 1;
          if (n > 0) byConnection.set(connection, n);
          else byConnection.delete(connection);
        }
        if (user) {
          const n = (byUser.get(user) ?? 1) - 1;
          if (n > 0) byUser.set(user, n);
          else byUser.delete(user);
        }
      };
      return {
        onSubscribeResult({ result }) {
          if (!(Symbol.asyncIterator in Object(result))) {
            release(); // an error result: nothing stays live
            return;
          }
          return { onEnd: release };
        },
        onSubscribeError() {
          release();
        },
      };
    },
  };
}
