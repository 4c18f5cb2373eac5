// Avatars on the router's origin: `Profile.avatarUrl` is `/avatars/<key>.webp`, relative to the
// GraphQL endpoint, so the router serves `GET`/`HEAD /avatars/<key>.webp` by fetching the file
// from the profile subgraph (which stores and serves it). Wired in ../gateway.config.ts; see
// docs/profile.md "Avatar URLs".
//
// Only names of the profile store's shape pass (32 URL-safe characters + `.webp`): anything else
// is a 404 here, without asking the profile subgraph, so no path (`..`, encoded slashes) ever
// reaches it. The profile's response headers that matter for an image are passed on (type,
// length, immutable caching, nosniff, a sandboxing CSP, validators); a profile subgraph that is
// down or slower than the upstream timeout is a 503 with Retry-After.
import type { GatewayPlugin } from '@graphql-hive/gateway';

export const AVATAR_PREFIX = '/avatars/';
const AVATAR_NAME = /^[A-Za-z0-9_-]{32}\.webp$/;
const PASSED_HEADERS = [
  'content-type',
  'content-length',
  'cache-control',
  'content-disposition',
  'content-security-policy',
  'x-content-type-options',
  'cross-origin-resource-policy',
  'etag',
  'last-modified',
];
const CONDITIONAL_HEADERS = ['if-none-match', 'if-modified-since'];
const RETRY_AFTER_SECONDS = 5;

export interface AvatarProxyOptions {
  /** The profile subgraph's GraphQL URL (PROFILE_SUBGRAPH_URL); avatars are on its origin. */
  profileUrl: string;
  timeoutMs: number;
}

export function useAvatarProxy(opts: AvatarProxyOptions): GatewayPlugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (!url.pathname.startsWith(AVATAR_PREFIX)) return;
      const plain = (status: number, body: string, headers: Record<string, string> = {}) =>
        endResponse(
          new fetchAPI.Response(body, {
            status,
            headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', ...headers },
          }),
        );
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        plain(405, 'Method not allowed', { allow: 'GET, HEAD' });
        return;
      }
      const name = url.pathname.slice(AVATAR_PREFIX.length);
      if (!AVATAR_NAME.test(name)) {
        plain(404, 'Not found');
        return;
      }
      const headers: Record<string, string> = {};
      for (const key of CONDITIONAL_HEADERS) {
        const value = request.headers.get(key);
        if (value) headers[key] = value;
      }
      return fetch(new URL(`${AVATAR_PREFIX}${name}`, opts.profileUrl), {
        headers,
        signal: AbortSignal.timeout(opts.timeoutMs),
      }).then(
        (upstream) => {
          const passed = new fetchAPI.Headers();
          for (const key of PASSED_HEADERS) {
            const value = upstream.headers.get(key);
            if (value) passed.set(key, value);
          }
          const bodiless = request.method === 'HEAD' || upstream.status === 304;
          if (bodiless) void upstream.body?.cancel();
          const body = bodiless ? null : upstream.body;
          endResponse(new fetchAPI.Response(body, { status: upstream.status, headers: passed }));
        },
        () => plain(503, 'Avatars are temporarily unavailable', { 'retry-after': String(RETRY_AFTER_SECONDS) }),
      );
    },
  };
}
