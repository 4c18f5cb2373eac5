// Where the router and Razorpay's checkout.js are. The page's host serves /config.json
// (`make dev` does; a front-end team's deployment writes its own); without one the development
// defaults apply. Nothing here is secret: the Razorpay key id comes from startCheckout.
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

export async function loadConfig(): Promise<MfeConfig> {
  try {
    const response = await fetch('/config.json', { cache: 'no-store' });
    if (!response.ok) return DEFAULTS;
    const given = (await response.json()) as Partial<MfeConfig>;
    return { ...DEFAULTS, ...given };
  } catch {
    return DEFAULTS;
  }
}
