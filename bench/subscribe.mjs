// Subscribers for the fan-out benchmark, driven by a JSON spec in the file argv[2]:
//   {urls: [router ws url, ...], token, paymentIds: [...], perConnection, timeoutSeconds}
// Opens graphql-transport-ws connections (spread over the urls), subscribes each payment's
// `paymentUpdated`, prints `READY` once every subscribe message is sent, then records the wall
// clock (ms since the epoch) of each payment's first update and prints one JSON line:
//   {received: {paymentId: ms}, errors: [..]} when all arrived, or timeoutSeconds after the
// harness wrote a line on stdin (it has published every update).
import { readFileSync } from 'node:fs';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const received = {};
const errors = [];
const clients = [];
const QUERY = 'subscription($id: ID!) { paymentUpdated(id: $id) { id status } }';
let pending = spec.paymentIds.length;
let finished = false;

function finish() {
  if (finished) return;
  finished = true;
  process.stdout.write(`${JSON.stringify({ received, errors: errors.slice(0, 20), errorCount: errors.length })}\n`);
  for (const client of clients) client.dispose();
  setTimeout(() => process.exit(0), 200).unref();
}

const perConnection = spec.perConnection ?? 10;
for (let start = 0; start < spec.paymentIds.length; start += perConnection) {
  const url = spec.urls[(start / perConnection) % spec.urls.length];
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${spec.token}` },
  });
  clients.push(client);
  for (const id of spec.paymentIds.slice(start, start + perConnection)) {
    client.subscribe(
      { query: QUERY, variables: { id } },
      {
        next: (value) => {
          if (value.errors) {
            errors.push(JSON.stringify(value.errors));
            return;
          }
          if (received[id] === undefined) {
            received[id] = Date.now();
            pending -= 1;
            if (pending === 0) finish();
          }
        },
        error: (err) => {
          errors.push(String(err?.message ?? err?.reason ?? JSON.stringify(err)));
        },
        complete: () => {},
      },
    );
  }
}
process.stdout.write('READY\n');
// The harness writes a line once it has published every update: from then on, wait at most
// timeoutSeconds for the rest (subscribing may take long on a loaded machine).
process.stdin.setEncoding('utf8');
process.stdin.once('data', () => {
  setTimeout(finish, (spec.timeoutSeconds ?? 60) * 1000).unref();
});
// Keep the process alive until finish().
const keepAlive = setInterval(() => {}, 1000);
process.on('exit', () => clearInterval(keepAlive));
