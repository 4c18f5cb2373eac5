// Razorpay Checkout: load checkout.js once from the configured URL (Razorpay's in production,
// the simulator's in development: the same browser API), open it with the order from
// startCheckout, and hand the signed triple to the caller.
import type { StartCheckoutMutation } from './gql/graphql';

export interface RazorpayHandlerResponse {
  razorpay_payment_id: string;
  razorpay_order_id: string;
  razorpay_signature: string;
}

export interface RazorpayFailure {
  error: { code: string; description: string; source?: string; step?: string; reason?: string;
    metadata?: { order_id?: string; payment_id?: string } };
}

interface RazorpayOptions {
  key: string;
  order_id: string;
  amount: number;
  currency: string;
  name?: string;
  description?: string;
  prefill?: { email?: string };
  handler: (response: RazorpayHandlerResponse) => void;
  modal?: { ondismiss?: () => void };
}

interface RazorpayInstance {
  open(): void;
  close(): void;
  on(event: 'payment.failed', callback: (response: RazorpayFailure) => void): void;
}

declare global {
  interface Window {
    Razorpay?: new (options: RazorpayOptions) => RazorpayInstance;
  }
}

let loading: Promise<void> | null = null;

export function loadCheckout(url: string): Promise<void> {
  if (window.Razorpay) return Promise.resolve();
  loading ??= new Promise<void>((resolve, reject) => {
    const script = document.createElement('script');
    script.src = url;
    script.onload = () => resolve();
    script.onerror = () => {
      loading = null;
      reject(new Error('Razorpay Checkout could not be loaded.'));
    };
    document.head.appendChild(script);
  });
  return loading;
}

export interface CheckoutCallbacks {
  onPaid: (response: RazorpayHandlerResponse) => void;
  onFailed: (failure: RazorpayFailure) => void;
  onDismiss: () => void;
}

export async function openCheckout(
  url: string,
  session: StartCheckoutMutation['startCheckout'],
  email: string | undefined,
  callbacks: CheckoutCallbacks,
): Promise<void> {
  await loadCheckout(url);
  const Razorpay = window.Razorpay;
  if (!Razorpay) throw new Error('Razorpay Checkout did not load.');
  const checkout = new Razorpay({
    key: session.razorpayKeyId,
    order_id: session.razorpayOrderId,
    amount: session.amountMinor, // minor units: 9999 for "99.99" INR
    currency: session.currency,
    name: 'Payments MFE (example)',
    prefill: { email },
    handler: callbacks.onPaid,
    modal: { ondismiss: callbacks.onDismiss },
  });
  checkout.on('payment.failed', callbacks.onFailed);
  checkout.open();
}
