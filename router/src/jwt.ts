// Access-token verification: RS256 JWTs from the auth subgraph, keys from its JWKS.
//
// Why not the gateway's `jwt:` option (@graphql-yoga/plugin-jwt 3.18.1)? Its errors carry no
// `extensions.code` (plugin.js `unauthorizedError('Unauthenticated')`), a token whose `kid` is
// not in the JWKS becomes a plain Error "Authentication is not available at the moment." that is
// masked as INTERNAL_SERVER_ERROR (plugin.js getSigningKey -> null), and its WebSocket lookup
// does not strip the "Bearer " prefix. This plugin does the same job with the contract's codes.
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import jsonwebtoken from 'jsonwebtoken';
import { GraphQLError } from 'graphql';

export interface AccessTokenClaims {
  sub: string;
  email?: string;
  role: 'ADMIN' | 'VENDOR' | 'CUSTOMER';
  scope?: string;
  jti?: string;
  iat?: number;
  exp: number;
  iss: string;
  aud: string | string[];
  [claim: string]: unknown;
}

const ROLES = new Set(['ADMIN', 'VENDOR', 'CUSTOMER']);

export function unauthenticated(message = 'Invalid or expired access token'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED' } });
}

class JwksUnavailable extends Error {}

interface Logger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
}

export interface JwksCacheOptions {
  url: string;
  /** A known key is trusted this long before the JWKS is fetched again (default 10 min). */
  maxAgeMs?: number;
  /** At most one fetch per this interval for unknown `kid`s (default 1 s). */
  minRefetchIntervalMs?: number;
  timeoutMs?: number;
  log?: Logger;
}

/** Lazily fetched JWKS: fetched on first use, again for an unknown `kid`, and when stale. */
export class JwksCache {
  private keys = new Map<string, KeyObject>();
  private fetchedAt = 0;
  private lastAttemptAt = 0;
  private lastAttemptFailed = false;
  private inflight: Promise<void> | null = null;
  private readonly maxAgeMs: number;
  private readonly minRefetchIntervalMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly opts: JwksCacheOptions) {
    this.maxAgeMs = opts.maxAgeMs ?? 10 * 60_000;
    this.minRefetchIntervalMs = opts.minRefetchIntervalMs ?? 1_000;
    this.timeoutMs = opts.timeoutMs ?? 3_000;
  }

  private refresh(): Promise<void> {
    if (this.inflight) return this.inflight;
    this.lastAttemptAt = Date.now();
    this.inflight = (async () => {
      try {
        const res = await fetch(this.opts.url, {
          headers: { accept: 'application/json' },
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const body = (await res.json()) as { keys?: unknown };
        if (!body || !Array.isArray(body.keys)) throw new Error('no "keys" array');
        const keys = new Map<string, KeyObject>();
        for (const jwk of body.keys as Record<string, unknown>[]) {
          if (!jwk || jwk.kty !== 'RSA' || typeof jwk.kid !== 'string') continue;
          if (jwk.use !== undefined && jwk.use !== 'sig') continue;
          if (jwk.alg !== undefined && jwk.alg !== 'RS256') continue;
          try {
            const fresh = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
            // The same key keeps its object: the verified-token cache trusts a token while its
            // kid maps to the very key object that verified it, and a refetch (which an unknown
            // kid can cause once a second) must not empty that cache for unchanged keys.
            const known = this.keys.get(jwk.kid);
            keys.set(jwk.kid, known?.equals(fresh) ? known : fresh);
          } catch (e) {
            this.opts.log?.warn({ kid: jwk.kid, err: String(e) }, '[jwt] ignoring an unusable JWKS key');
          }
        }
        this.keys = keys;
        this.fetchedAt = Date.now();
        this.lastAttemptFailed = false;
        this.opts.log?.debug({ url: this.opts.url, kids: [...keys.keys()] }, '[jwt] JWKS fetched');
      } catch (e) {
        this.lastAttemptFailed = true;
        this.opts.log?.warn({ url: this.opts.url, err: String(e) }, '[jwt] JWKS fetch failed');
      } finally {
        this.inflight = null;
      }
    })();
    return this.inflight;
  }

  /** The key for `kid` when it is known and the JWKS is not stale, without fetching. */
  currentKey(kid: string): KeyObject | undefined {
    return Date.now() - this.fetchedAt > this.maxAgeMs ? undefined : this.keys.get(kid);
  }

  /** The key for `kid`, null when the JWKS does not have it; throws JwksUnavailable when the
   *  JWKS cannot be fetched and the key is not already known. */
  async getKey(kid: string): Promise<KeyObject | null> {
    const now = Date.now();
    const known = this.keys.get(kid);
    const stale = now - this.fetchedAt > this.maxAgeMs;
    if (known && !stale) return known;
    if (this.inflight || now - this.lastAttemptAt >= this.minRefetchIntervalMs) {
      await this.refresh();
    }
    const key = this.keys.get(kid);
    if (key) return key;
    if (known && this.lastAttemptFailed) return known; // auth is down: keep trusting known keys
    if (this.lastAttemptFailed) throw new JwksUnavailable('JWKS unavailable');
    return null;
  }
}

export interface VerifierOptions {
  jwks: JwksCache;
  issuer: string;
  audience: string;
  clockToleranceSeconds: number;
  log?: Logger;
  /** Verified tokens remembered (default 10,000; 0: none). */
  cacheSize?: number;
}

interface Verified {
  claims: AccessTokenClaims;
  kid: string;
  key: KeyObject;
  /** Unix seconds from which jsonwebtoken would call the token expired (exp + tolerance). */
  expiresAt: number;
}

/**
 * RS256 verification of access tokens, with a cache of verified tokens: a token seen before is
 * accepted without decoding or an RSA verification while (all checked on every use)
 * - it has not expired (`exp` + clock tolerance, as jsonwebtoken counts it);
 * - its key is still the one the JWKS gave for its `kid` (a refetched JWKS makes new key
 *   objects, so every token is verified again after a refetch or a key rotation) and the JWKS is
 *   not stale (a stale JWKS takes the full path, which refetches it).
 * Only tokens that passed every check are cached (a forged token cannot fill it); the oldest
 * entry goes when it is full. Revocation is the subgraphs' job either way (docs/router.md).
 */
export function createVerifier(opts: VerifierOptions) {
  const cacheSize = opts.cacheSize ?? 10_000;
  const cache = new Map<string, Verified>();
  const remember = (token: string, entry: Verified) => {
    if (cacheSize <= 0) return;
    if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
    cache.set(token, entry);
  };
  return async function verify(token: string): Promise<AccessTokenClaims> {
    const hit = cache.get(token);
    if (hit) {
      if (Math.floor(Date.now() / 1000) < hit.expiresAt && opts.jwks.currentKey(hit.kid) === hit.key) {
        return hit.claims;
      }
      cache.delete(token);
    }
    return verifyFully(token);
  };

  async function verifyFully(token: string): Promise<AccessTokenClaims> {
    const decoded = jsonwebtoken.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload !== 'object' || decoded.payload === null) {
      throw unauthenticated();
    }
    const { alg, kid } = decoded.header;
    if (alg !== 'RS256' || typeof kid !== 'string' || kid === '') {
      opts.log?.debug({ alg, kid }, '[jwt] rejected: alg is not RS256 or kid is missing');
      throw unauthenticated();
    }
    let key: KeyObject | null;
    try {
      key = await opts.jwks.getKey(kid);
    } catch (e) {
      if (e instanceof JwksUnavailable) {
        throw new GraphQLError('Token verification is temporarily unavailable', {
          extensions: { code: 'SERVICE_UNAVAILABLE', retryAfter: 5, http: { status: 503, headers: { 'retry-after': '5' } } },
        });
      }
      throw e;
    }
    if (!key) {
      opts.log?.debug({ kid }, '[jwt] rejected: unknown kid');
      throw unauthenticated();
    }
    let claims: AccessTokenClaims;
    try {
      claims = jsonwebtoken.verify(token, key, {
        algorithms: ['RS256'],
        issuer: opts.issuer,
        audience: opts.audience,
        clockTolerance: opts.clockToleranceSeconds,
      }) as AccessTokenClaims;
    } catch (e) {
      opts.log?.debug({ err: String(e) }, '[jwt] rejected: verification failed');
      throw unauthenticated();
    }
    if (
      typeof claims.sub !== 'string' || claims.sub === '' ||
      typeof claims.exp !== 'number' ||
      !ROLES.has(claims.role as string) ||
      (claims.scope !== undefined && typeof claims.scope !== 'string')
    ) {
      opts.log?.debug('[jwt] rejected: sub, exp, role or scope missing or malformed');
      throw unauthenticated();
    }
    remember(token, { claims, kid, key, expiresAt: claims.exp + opts.clockToleranceSeconds });
    return claims;
  }
}

/** The token in an Authorization value: undefined when there is none (anonymous), null when
 *  the value is present but is not `Bearer <token>`. */
export function bearerToken(value: unknown): string | null | undefined {
  if (value == null) return undefined;
  if (typeof value !== 'string') return null;
  const v = value.trim();
  if (v === '') return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(v);
  return m ? m[1] : null;
}
