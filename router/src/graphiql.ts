// GraphiQL (development only): it opens on an example operation with the headers to fill in.
//
// `graphiqlOptions` are Yoga's GraphiQL options (`defaultQuery`, `headers`): the legacy GraphiQL
// (`--render-legacy-graphiql`) reads them directly. The gateway's default page is the Hive
// Laboratory, whose renderer ignores both; it keeps its operations and tabs in localStorage
// (`hive-laboratory:*`). `renderGraphiQL` renders the Laboratory as the gateway would and, in the
// page's <head>, seeds that storage with the example operation (query, variables and headers in
// one tab) when the browser has no Laboratory operations yet, so a user's own work is never
// overwritten and a cleared storage brings the example back.
import { renderLaboratory } from '@graphql-hive/render-laboratory';

export const EXAMPLE_OPERATION = `# Payments BFF (development). Docs: every field described.
# 1. Run Login with a seed account (admin@, vendor@ or
#    customer@example.com); the password is DEV_SEED_PASSWORD
#    or .data/secrets/dev_seed_password.
# 2. Put its accessToken in Headers (tab below):
#    {"Authorization": "Bearer <accessToken>"}
# 3. Run Me, MyPayments, or PaymentUpdated (live, WebSocket).
# Error codes and what to do about each: docs/errors.md.

mutation Login($email: String!, $password: String!) {
  login(input: { email: $email, password: $password }) {
    accessToken
    refreshToken
    expiresIn
    user { id email role }
  }
}

query Me {
  me { id email name role emailVerified }
}

query MyPayments {
  payments(first: 10) {
    totalCount
    edges { node { id type status amount currency description createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}

subscription PaymentUpdated($paymentId: ID!) {
  paymentUpdated(id: $paymentId) { id status amount amountRefunded currency updatedAt }
}
`;

export const EXAMPLE_VARIABLES = JSON.stringify(
  { email: 'customer@example.com', password: '<DEV_SEED_PASSWORD>', paymentId: '<paymentId>' },
  null,
  2,
);

export const EXAMPLE_HEADERS = JSON.stringify({ Authorization: 'Bearer <accessToken>' }, null, 2);

export const graphiqlOptions = {
  title: 'Payments BFF',
  defaultQuery: EXAMPLE_OPERATION,
  headers: EXAMPLE_HEADERS,
};

type RenderOptions = Parameters<typeof renderLaboratory>[0];

// `<` escaped so that no value can close the <script> element it is embedded in.
const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c');

function seedScript(opts: RenderOptions): string {
  const operation = {
    id: 'payments-bff-example',
    name: 'Login',
    query: opts?.defaultQuery ?? EXAMPLE_OPERATION,
    variables: EXAMPLE_VARIABLES,
    headers: opts?.headers ?? EXAMPLE_HEADERS,
    extensions: '{}',
  };
  const tab = {
    id: 'payments-bff-example-tab',
    type: 'operation',
    data: { id: operation.id, name: operation.name },
  };
  return `<script>
      (function () {
        try {
          var prefix = 'hive-laboratory:';
          if (localStorage.getItem(prefix + 'operations') !== null) return;
          localStorage.setItem(prefix + 'operations', JSON.stringify([${scriptJson(operation)}]));
          localStorage.setItem(prefix + 'tabs', JSON.stringify([${scriptJson(tab)}]));
          localStorage.setItem(prefix + 'activeTabId', JSON.stringify(${scriptJson(tab.id)}));
        } catch (e) {}
      })();
    </script>
  `;
}

export function renderGraphiQL(opts?: RenderOptions): string {
  return renderLaboratory(opts).replace('</head>', `${seedScript(opts)}</head>`);
}
