// Router settings, read once from the environment. Every variable has a development default
// except ROUTER_HMAC_SECRET. See docs/router.md for the full list.
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROUTER_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export type AppEnv = 'development' | 'test' | 'production';
export const SUBGRAPH_NAMES = ['auth', 'payments', 'admin', 'profile'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

export interface Settings {
  appEnv: AppEnv;
  isProduction: boolean;
  port: number;
  host: string;
  supergraphPath: string;
  subgraphUrls: Partial<Record<SubgraphName, string>>;
  jwksUrl: string;
  jwtIssuer: string;
  jwtAudience: string;
  jwtClockToleranceSeconds: number;
  hmacSecret: string;
  corsOrigins: string[];
  maxDepth: number;
  maxTokens: number;
  maxUploadBytes: number;
  trustProxy: boolean;
  /** Hive Router's Rust query planner and executor (default), else the JavaScript planner. */
  rustPlanner: boolean;
  metrics: boolean;
  metricsPort: number;
  metricsHost: string;
  /** Client operation names reported as the `operation_name` metric label; others: `other`. */
  metricsOperationNames: Set<string>;
  apiRateLimitPerMinute: number;
  wsMaxSubscriptionsPerConnection: number;
  wsMaxSubscriptionsPerUser: number;
  upstreamTimeoutMs: number;
  /** Manifests of trusted documents (hash -> document), absolute paths (src/persisted.ts). */
  persistedDocumentsPaths: string[];
  /** Refuse any document that is not in a manifest (default: on in production). */
  trustedDocumentsOnly: boolean;
}

export class SettingsError extends Error {}

const DEVELOPMENT_CORS_ORIGINS = 'http://localhost:3000,http://localhost:4020,http://127.0.0.1:4020';

/** Every manifest in router/persisted-documents/ (one per MFE, docs/mfe.md). */
const DEFAULT_PERSISTED_DOCUMENTS = 'persisted-documents';

const PLACEHOLDER = /^(changeme|change-me|secret|password|xxx+.*|your[-_].*|todo|placeholder|dummy|example)$/i;

function str(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  if (v == null) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

function int(env: NodeJS.ProcessEnv, name: string, dflt: number, min: number, max: number): number {
  const raw = str(env, name);
  if (raw === undefined) return dflt;
  if (!/^\d+$/.test(raw)) throw new SettingsError(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (n < min || n > max) throw new SettingsError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: NodeJS.ProcessEnv, name: string, dflt: boolean): boolean {
  const raw = str(env, name);
  if (raw === undefined) return dflt;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new SettingsError(`${name} must be true or false, got ${JSON.stringify(raw)}`);
}

function httpUrl(name: string, raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new SettingsError(`${name} must be an absolute http(s) URL, got ${JSON.stringify(raw)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new SettingsError(`${name} must be an http(s) URL, got ${JSON.stringify(raw)}`);
  }
  return u.toString();
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const appEnvRaw = (str(env, 'APP_ENV') ?? 'development').toLowerCase();
  if (appEnvRaw !== 'development' && appEnvRaw !== 'test' && appEnvRaw !== 'production') {
    throw new SettingsError(`APP_ENV must be development, test or production, got ${JSON.stringify(appEnvRaw)}`);
  }
  const appEnv = appEnvRaw as AppEnv;
  const isProduction = appEnv === 'production';

  const hmacSecret = str(env, 'ROUTER_HMAC_SECRET');
  if (!hmacSecret) {
    throw new SettingsError('ROUTER_HMAC_SECRET is required (the secret the router signs subgraph requests with)');
  }
  if (isProduction && (PLACEHOLDER.test(hmacSecret) || hmacSecret.length < 32)) {
    throw new SettingsError('ROUTER_HMAC_SECRET is a placeholder or shorter than 32 characters; refusing to start in production');
  }

  const subgraphUrls: Partial<Record<SubgraphName, string>> = {};
  for (const name of SUBGRAPH_NAMES) {
    const varName = `${name.toUpperCase()}_SUBGRAPH_URL`;
    const raw = str(env, varName);
    if (raw) subgraphUrls[name] = httpUrl(varName, raw);
  }

  // The JWKS lives on the auth subgraph: follow AUTH_SUBGRAPH_URL when only that is overridden.
  const jwksRaw = str(env, 'AUTH_JWKS_URL');
  const jwksUrl = jwksRaw
    ? httpUrl('AUTH_JWKS_URL', jwksRaw)
    : subgraphUrls.auth
      ? new URL('/.well-known/jwks.json', subgraphUrls.auth).toString()
      : 'http://127.0.0.1:4001/.well-known/jwks.json';

  const corsRaw = str(env, 'CORS_ORIGINS');
  // Development: a front end on :3000 and the example MFE (examples/mfe, MFE_PORT 4020).
  const corsOrigins = (corsRaw ?? (isProduction ? '' : DEVELOPMENT_CORS_ORIGINS))
    .split(',')
    .map((o) => o.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  if (isProduction && corsOrigins.includes('*')) {
    throw new SettingsError('CORS_ORIGINS must list explicit origins in production ("*" with credentials is refused)');
  }

  const supergraphRaw = str(env, 'SUPERGRAPH_PATH') ?? '../schema/supergraph.graphql';
  const supergraphPath = isAbsolute(supergraphRaw) ? supergraphRaw : resolve(ROUTER_DIR, supergraphRaw);

  const host = str(env, 'ROUTER_HOST') ?? '127.0.0.1';
  const port = int(env, 'ROUTER_PORT', 4000, 1, 65535);
  const metricsPort = int(env, 'ROUTER_METRICS_PORT', 9464, 1, 65535);
  if (metricsPort === port) {
    throw new SettingsError(`ROUTER_METRICS_PORT must differ from ROUTER_PORT (${port}): metrics are never served on the public port`);
  }

  return {
    appEnv,
    isProduction,
    port,
    host,
    supergraphPath,
    subgraphUrls,
    jwksUrl,
    jwtIssuer: str(env, 'JWT_ISSUER') ?? 'payments-bff-auth',
    jwtAudience: str(env, 'JWT_AUDIENCE') ?? 'payments-bff',
    jwtClockToleranceSeconds: int(env, 'JWT_CLOCK_TOLERANCE_SECONDS', 5, 0, 300),
    hmacSecret,
    corsOrigins,
    maxDepth: int(env, 'ROUTER_MAX_DEPTH', 10, 1, 1000),
    maxTokens: int(env, 'ROUTER_MAX_TOKENS', 1000, 10, 1_000_000),
    // Multipart (file upload) request bodies: a 2 MiB avatar plus room for the form framing.
    maxUploadBytes: int(env, 'ROUTER_MAX_UPLOAD_BYTES', 2 * 1024 * 1024 + 256 * 1024, 1024, 100_000_000),
    trustProxy: bool(env, 'ROUTER_TRUST_PROXY', false),
    rustPlanner: bool(env, 'ROUTER_RUST_PLANNER', true),
    metrics: bool(env, 'ROUTER_METRICS', true),
    metricsPort,
    metricsHost: str(env, 'ROUTER_METRICS_HOST') ?? host,
    metricsOperationNames: new Set(
      (str(env, 'ROUTER_METRICS_OPERATION_NAMES') ?? '')
        .split(',')
        .map((n) => n.trim())
        .filter((n) => /^[_A-Za-z][_0-9A-Za-z]{0,99}$/.test(n)),
    ),
    apiRateLimitPerMinute: int(env, 'API_RATE_LIMIT_PER_MINUTE', 600, 1, 1_000_000),
    wsMaxSubscriptionsPerConnection: int(env, 'WS_MAX_SUBSCRIPTIONS_PER_CONNECTION', 20, 1, 10_000),
    wsMaxSubscriptionsPerUser: int(env, 'WS_MAX_SUBSCRIPTIONS_PER_USER', 50, 1, 100_000),
    upstreamTimeoutMs: int(env, 'ROUTER_UPSTREAM_TIMEOUT_MS', 5_000, 100, 600_000),
    persistedDocumentsPaths: (str(env, 'ROUTER_PERSISTED_DOCUMENTS') ?? DEFAULT_PERSISTED_DOCUMENTS)
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => (isAbsolute(p) ? p : resolve(ROUTER_DIR, p))),
    trustedDocumentsOnly: bool(env, 'ROUTER_TRUSTED_DOCUMENTS_ONLY', isProduction),
  };
}
