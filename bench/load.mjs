// One load run with autocannon, driven by a JSON spec in the file argv[2]; prints a JSON report.
//   kind "graphql": POST {query, variables} with a unique DateTime in `variables.t` per request
//     (the gateway deduplicates identical in-flight requests), optional bearer token, optional
//     router HMAC signature (direct subgraph calls play the router).
//   kind "webhook": a signed Razorpay `payment.captured` delivery per request, one per order id
//     of `orders` (unique event ids), `amount` deliveries in all.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const BASE = Date.UTC(2100, 0, 1);
let counter = 0;

function canonical(value) {
  // Keys sorted, no spaces: the signing scheme of shared/router_signature.py.
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function graphqlRequest(req) {
  const variables = { ...(spec.variables ?? {}) };
  if (spec.uniqueT !== false) variables.t = new Date(BASE + counter++ * 1000).toISOString();
  const body = { query: spec.query, variables };
  if (spec.signSecret) {
    const mac = createHmac('sha256', spec.signSecret).update(canonical({ query: spec.query, variables }));
    body.extensions = { 'hmac-signature': mac.digest('base64') };
  }
  req.body = JSON.stringify(body);
  return req;
}

function webhookRequest(req) {
  const i = counter++;
  const order = spec.orders[i % spec.orders.length];
  const event = {
    entity: 'event',
    account_id: 'acc_bench',
    event: 'payment.captured',
    contains: ['payment'],
    created_at: Math.floor(Date.now() / 1000),
    payload: {
      payment: {
        entity: {
          id: `pay_${spec.prefix}${i}`,
          entity: 'payment',
          order_id: order.orderId,
          status: 'captured',
          amount: order.amount,
          currency: 'INR',
          amount_refunded: 0,
          captured: true,
          notes: [],
        },
      },
    },
  };
  const raw = JSON.stringify(event);
  req.body = raw;
  req.headers = {
    'content-type': 'application/json',
    'x-razorpay-event-id': `evt_${spec.prefix}${i}`,
    'x-razorpay-signature': createHmac('sha256', spec.webhookSecret).update(raw).digest('hex'),
  };
  return req;
}

const headers = { 'content-type': 'application/json' };
if (spec.token) headers.authorization = `Bearer ${spec.token}`;
const options = {
  url: spec.url,
  connections: spec.connections ?? 16,
  pipelining: 1,
  timeout: spec.timeoutSeconds ?? 20,
  requests: [
    {
      method: 'POST',
      headers,
      setupRequest: spec.kind === 'webhook' ? webhookRequest : graphqlRequest,
    },
  ],
};
if (spec.amount) options.amount = spec.amount;
else options.duration = spec.duration ?? 10;

autocannon(options, (err, result) => {
  if (err) {
    console.error(String(err));
    process.exit(1);
  }
  const ok = result['2xx'];
  const report = {
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds: result.duration,
    latency: result.latency,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
});
