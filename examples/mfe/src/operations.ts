// Every operation this MFE sends. Each `graphql(...)` call is typed by GraphQL Code Generator
// (src/gql/) and listed, by its sha256 hash, in src/gql/persisted-documents.json: the router
// runs only those documents when ROUTER_TRUSTED_DOCUMENTS_ONLY is on (production).
import { graphql } from './gql';

export const LoginMutation = graphql(`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      ...Session
    }
  }
`);

export const LoginWithTotpMutation = graphql(`
  mutation LoginWithTotp($mfaToken: String!, $code: String!) {
    loginWithTotp(mfaToken: $mfaToken, code: $code) {
      ...Session
    }
  }
`);

export const RefreshTokenMutation = graphql(`
  mutation RefreshToken($refreshToken: String!) {
    refreshToken(refreshToken: $refreshToken) {
      ...Session
    }
  }
`);

export const LogoutMutation = graphql(`
  mutation Logout($refreshToken: String!) {
    logout(refreshToken: $refreshToken)
  }
`);

export const SessionFragment = graphql(`
  fragment Session on AuthPayload {
    accessToken
    refreshToken
    expiresIn
    user {
      id
      email
      role
    }
  }
`);

export const CreatePaymentMutation = graphql(`
  mutation CreatePayment($input: CreatePaymentInput!) {
    createPayment(input: $input) {
      ...PaymentFields
    }
  }
`);

export const StartCheckoutMutation = graphql(`
  mutation StartCheckout($paymentId: ID!) {
    startCheckout(paymentId: $paymentId) {
      paymentId
      razorpayOrderId
      razorpayKeyId
      amount
      amountMinor
      currency
    }
  }
`);

export const VerifyPaymentMutation = graphql(`
  mutation VerifyPayment($input: VerifyPaymentInput!) {
    verifyPayment(input: $input) {
      ...PaymentFields
    }
  }
`);

export const PaymentUpdatedSubscription = graphql(`
  subscription PaymentUpdated($id: ID!) {
    paymentUpdated(id: $id) {
      ...PaymentFields
    }
  }
`);

export const PaymentFieldsFragment = graphql(`
  fragment PaymentFields on Payment {
    id
    status
    amount
    currency
    description
    razorpayOrderId
    updatedAt
  }
`);
