// Where the router and Razorpay's checkout.js are. The page's host serves /config.json
// (`make dev` does; a front-end team's deployment writes its own); without one only Vite's dev
// server falls back to the development defaults. Nothing here is secret: the Razorpay key id
// comes from startCheckout.
export interface MfeConfig {
  /** The router's GraphQL endpoint over HTTP. */
  graphqlUrl: string;
  /** The same endpoint over WebSocket (graphql-transport-ws), for subscriptions. */
  graphqlWsUrl: string;
  /** Razorpay's https://checkout.razorpay.com/v1/checkout.js, or the simulator's in development. */
  razorpayCheckoutUrl: string;
}

const DEFAULTS: MfeConfig = {
  graphqlUrl: 'http://127.0.0.1:4000/graphql',
  graphqlWsUrl: 'ws://127.0.0.1:4000/graphql',
  razorpayCheckoutUrl: 'http://127.0.0.1:4010/v1/checkout.js',
};

// The development defaults apply only to Vite's dev server: a production build without a
// /config.json must not quietly send passwords to whatever listens on the user's own port 4000.
export async function loadConfig(): Promise<MfeConfig> {
  let given: Partial<MfeConfig> = {};
  try {
    const response = await fetch('/config.json', { cache: 'no-store' });
    if (response.ok) given = (await response.json()) as Partial<MfeConfig>;
  } catch {
    // no config: handled below
  }
  if (import.meta.env.DEV) return { ...DEFAULTS, ...given };
  const { graphqlUrl, graphqlWsUrl, razorpayCheckoutUrl } = given;
  if (!graphqlUrl || !graphqlWsUrl || !razorpayCheckoutUrl) {
    throw new Error('/config.json must give graphqlUrl, graphqlWsUrl and razorpayCheckoutUrl');
  }
  return { graphqlUrl, graphqlWsUrl, razorpayCheckoutUrl };
}
