// The comparison gateway: a stock Apollo Gateway 2.x with Apollo Server on the same supergraph and
// subgraphs as our router. It enforces no auth of its own (the subgraphs still do); it forwards
// the caller's Authorization header and signs each subgraph request as our router does (the
// subgraphs serve only signed requests). Env: SUPERGRAPH_PATH, PORT, ROUTER_HMAC_SECRET and
// <NAME>_SUBGRAPH_URL overrides.
import { readFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';

const secret = process.env.ROUTER_HMAC_SECRET;

function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

// Apollo Gateway refuses supergraphs that link features `for: SECURITY` it does not implement
// (UNSUPPORTED_LINKED_FEATURE for @authenticated, @requiresScopes, @policy); it enforces no auth
// here anyway, so they are left out (APOLLO_KEEP_SECURITY=true keeps them, and Apollo refuses).
function withoutSecurityFeatures(sdl) {
  return sdl
    .split('\n')
    .filter((line) => !/^directive @(policy|requiresScopes|authenticated)\b/.test(line))
    .map((line) => line.replace(/ @link\(url: "https:\/\/specs\.apollo\.dev\/(policy|requiresScopes|authenticated)\/[^)]*\)/g, ''))
    .map((line) => line.replace(/ @(policy|requiresScopes)\(\w+: \[\[[^\]]*\]\]\)/g, '').replace(/ @authenticated\b/g, ''))
    .join('\n');
}

class SignedDataSource extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    if (context.authorization) request.http.headers.set('authorization', context.authorization);
    const payload = { query: request.query };
    if (request.variables && Object.keys(request.variables).length > 0) payload.variables = request.variables;
    const mac = createHmac('sha256', secret).update(canonical(payload)).digest('base64');
    request.extensions = { ...(request.extensions ?? {}), 'hmac-signature': mac };
  }
}

let sdl = readFileSync(process.env.SUPERGRAPH_PATH, 'utf8');
if (process.env.APOLLO_KEEP_SECURITY !== 'true') sdl = withoutSecurityFeatures(sdl);
const overrides = {};
for (const name of ['auth', 'payments', 'admin', 'profile']) {
  const url = process.env[`${name.toUpperCase()}_SUBGRAPH_URL`];
  if (url) overrides[name] = url;
}
const gateway = new ApolloGateway({
  supergraphSdl: sdl,
  buildService: ({ name, url }) => new SignedDataSource({ url: overrides[name] ?? url }),
});
const server = new ApolloServer({ gateway, csrfPrevention: false, introspection: false });
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(process.env.PORT), host: '127.0.0.1' },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});
process.stdout.write(`apollo gateway ready at ${url}\n`);
