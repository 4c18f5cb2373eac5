// The example MFE's page: log in (with the TOTP step), create a payment, pay it in Razorpay
// Checkout, watch its status live, log out. Plain DOM so that only the GraphQL parts matter.
import { Api } from './api';
import { openCheckout } from './checkout';
import { loadConfig, type MfeConfig } from './config';
import { ApiError } from './errors';
import type { PaymentFieldsFragment } from './gql/graphql';
import {
  CreatePaymentMutation,
  LoginMutation,
  LoginWithTotpMutation,
  LogoutMutation,
  PaymentUpdatedSubscription,
  StartCheckoutMutation,
  VerifyPaymentMutation,
} from './operations';

function $<T extends HTMLElement>(selector: string): T {
  const found = document.querySelector<T>(selector);
  if (!found) throw new Error(`missing ${selector}`);
  return found;
}

const ui = {
  error: $<HTMLParagraphElement>('#error'),
  loginForm: $<HTMLFormElement>('#login-form'),
  totpForm: $<HTMLFormElement>('#totp-form'),
  app: $<HTMLElement>('#app'),
  userEmail: $<HTMLSpanElement>('#user-email'),
  userRole: $<HTMLSpanElement>('#user-role'),
  logout: $<HTMLButtonElement>('#logout'),
  paymentForm: $<HTMLFormElement>('#payment-form'),
  payment: $<HTMLElement>('#payment'),
  paymentId: $<HTMLElement>('#payment-id'),
  paymentAmount: $<HTMLElement>('#payment-amount'),
  status: $<HTMLOutputElement>('[data-testid="payment-status"]'),
  message: $<HTMLParagraphElement>('#payment-message'),
  pay: $<HTMLButtonElement>('#pay'),
};

function showError(error: unknown): void {
  ui.error.textContent =
    error instanceof ApiError ? error.userMessage : error instanceof Error ? error.message : String(error);
}

function field(form: HTMLFormElement, name: string): string {
  return String(new FormData(form).get(name) ?? '').trim();
}

async function main(config: MfeConfig): Promise<void> {
  const api = new Api(config);
  let mfaToken: string | null = null;
  let payment: PaymentFieldsFragment | null = null;
  let stopWatching: (() => void) | null = null;

  api.onSessionChange = (session) => {
    ui.loginForm.hidden = session !== null;
    ui.totpForm.hidden = true;
    ui.app.hidden = session === null;
    ui.userEmail.textContent = session?.user.email ?? '';
    ui.userRole.textContent = session?.user.role ?? '';
  };

  function showPayment(next: PaymentFieldsFragment): void {
    payment = next;
    ui.payment.hidden = false;
    ui.paymentId.textContent = next.id;
    ui.paymentAmount.textContent = `${next.amount} ${next.currency}`;
    ui.status.textContent = next.status;
    ui.pay.disabled = !['PENDING', 'INITIATED', 'PROCESSING', 'FAILED'].includes(next.status);
  }

  /** The status shown comes from paymentUpdated: every change is pushed by the server. */
  function watch(id: string): void {
    stopWatching?.();
    stopWatching = api.subscribe(
      PaymentUpdatedSubscription,
      { id },
      (data) => showPayment(data.paymentUpdated),
      showError,
    );
  }

  ui.loginForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    ui.error.textContent = '';
    const input = { email: field(ui.loginForm, 'email'), password: field(ui.loginForm, 'password') };
    try {
      const data = await api.mutate(LoginMutation, { input });
      api.setSession(data.login);
      ui.loginForm.reset();
    } catch (error) {
      if (error instanceof ApiError && error.code === 'MFA_REQUIRED') {
        // Password accepted; the account has TOTP: ask for a code (the token is single use).
        mfaToken = String(error.extensions['mfaToken'] ?? '');
        ui.loginForm.hidden = true;
        ui.totpForm.hidden = false;
        ui.totpForm.querySelector('input')?.focus();
        return;
      }
      showError(error);
    }
  });

  ui.totpForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    ui.error.textContent = '';
    try {
      const data = await api.mutate(LoginWithTotpMutation, {
        mfaToken: mfaToken ?? '',
        code: field(ui.totpForm, 'code'),
      });
      mfaToken = null;
      ui.totpForm.reset();
      ui.loginForm.reset();
      api.setSession(data.loginWithTotp);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') {
        // The mfaToken expired or was used: start again from the password.
        mfaToken = null;
        ui.totpForm.hidden = true;
        ui.loginForm.hidden = false;
      }
      showError(error);
    }
  });

  ui.paymentForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    ui.error.textContent = '';
    ui.message.textContent = '';
    try {
      const data = await api.mutate(CreatePaymentMutation, {
        input: { amount: field(ui.paymentForm, 'amount'), currency: field(ui.paymentForm, 'currency') },
      });
      showPayment(data.createPayment);
      watch(data.createPayment.id);
    } catch (error) {
      showError(error);
    }
  });

  ui.pay.addEventListener('click', async () => {
    if (!payment) return;
    const paymentId = payment.id;
    ui.error.textContent = '';
    ui.message.textContent = '';
    ui.pay.disabled = true;
    try {
      const { startCheckout } = await api.mutate(StartCheckoutMutation, { paymentId });
      await openCheckout(config.razorpayCheckoutUrl, startCheckout, api.user?.email, {
        onPaid: async (response) => {
          ui.message.textContent = 'Verifying the payment…';
          try {
            const { verifyPayment } = await api.mutate(VerifyPaymentMutation, {
              input: {
                paymentId,
                razorpayOrderId: response.razorpay_order_id,
                razorpayPaymentId: response.razorpay_payment_id,
                razorpaySignature: response.razorpay_signature,
              },
            });
            // The status itself arrives through paymentUpdated.
            ui.message.textContent = `Payment verified (${verifyPayment.status}).`;
          } catch (error) {
            showError(error);
          }
        },
        onFailed: (failure) => {
          ui.message.textContent = `Payment failed: ${failure.error.description}`;
          ui.pay.disabled = false;
        },
        onDismiss: () => {
          ui.message.textContent = 'Checkout closed.';
          ui.pay.disabled = false;
        },
      });
    } catch (error) {
      ui.pay.disabled = false;
      showError(error);
    }
  });

  ui.logout.addEventListener('click', async () => {
    ui.error.textContent = '';
    const refreshToken = api.refreshToken;
    try {
      if (refreshToken) await api.mutate(LogoutMutation, { refreshToken });
    } catch (error) {
      showError(error); // logged out here anyway: the tokens are dropped below
    }
    stopWatching?.();
    stopWatching = null;
    payment = null;
    ui.payment.hidden = true;
    api.clear();
  });
}

loadConfig()
  .then(main)
  .catch((error: unknown) => {
    document.body.textContent = `This page is not configured: ${String(error)}`;
  });
