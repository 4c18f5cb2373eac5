/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      ...Session\n    }\n  }\n": typeof types.LoginDocument,
    "\n  mutation LoginWithTotp($mfaToken: String!, $code: String!) {\n    loginWithTotp(mfaToken: $mfaToken, code: $code) {\n      ...Session\n    }\n  }\n": typeof types.LoginWithTotpDocument,
    "\n  mutation RefreshToken($refreshToken: String!) {\n    refreshToken(refreshToken: $refreshToken) {\n      ...Session\n    }\n  }\n": typeof types.RefreshTokenDocument,
    "\n  mutation Logout($refreshToken: String!) {\n    logout(refreshToken: $refreshToken)\n  }\n": typeof types.LogoutDocument,
    "\n  fragment Session on AuthPayload {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      id\n      email\n      role\n    }\n  }\n": typeof types.SessionFragmentDoc,
    "\n  mutation CreatePayment($input: CreatePaymentInput!) {\n    createPayment(input: $input) {\n      ...PaymentFields\n    }\n  }\n": typeof types.CreatePaymentDocument,
    "\n  mutation StartCheckout($paymentId: ID!) {\n    startCheckout(paymentId: $paymentId) {\n      paymentId\n      razorpayOrderId\n      razorpayKeyId\n      amount\n      amountMinor\n      currency\n    }\n  }\n": typeof types.StartCheckoutDocument,
    "\n  mutation VerifyPayment($input: VerifyPaymentInput!) {\n    verifyPayment(input: $input) {\n      ...PaymentFields\n    }\n  }\n": typeof types.VerifyPaymentDocument,
    "\n  subscription PaymentUpdated($id: ID!) {\n    paymentUpdated(id: $id) {\n      ...PaymentFields\n    }\n  }\n": typeof types.PaymentUpdatedDocument,
    "\n  fragment PaymentFields on Payment {\n    id\n    status\n    amount\n    currency\n    description\n    razorpayOrderId\n    updatedAt\n  }\n": typeof types.PaymentFieldsFragmentDoc,
};
const documents: Documents = {
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      ...Session\n    }\n  }\n": types.LoginDocument,
    "\n  mutation LoginWithTotp($mfaToken: String!, $code: String!) {\n    loginWithTotp(mfaToken: $mfaToken, code: $code) {\n      ...Session\n    }\n  }\n": types.LoginWithTotpDocument,
    "\n  mutation RefreshToken($refreshToken: String!) {\n    refreshToken(refreshToken: $refreshToken) {\n      ...Session\n    }\n  }\n": types.RefreshTokenDocument,
    "\n  mutation Logout($refreshToken: String!) {\n    logout(refreshToken: $refreshToken)\n  }\n": types.LogoutDocument,
    "\n  fragment Session on AuthPayload {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      id\n      email\n      role\n    }\n  }\n": types.SessionFragmentDoc,
    "\n  mutation CreatePayment($input: CreatePaymentInput!) {\n    createPayment(input: $input) {\n      ...PaymentFields\n    }\n  }\n": types.CreatePaymentDocument,
    "\n  mutation StartCheckout($paymentId: ID!) {\n    startCheckout(paymentId: $paymentId) {\n      paymentId\n      razorpayOrderId\n      razorpayKeyId\n      amount\n      amountMinor\n      currency\n    }\n  }\n": types.StartCheckoutDocument,
    "\n  mutation VerifyPayment($input: VerifyPaymentInput!) {\n    verifyPayment(input: $input) {\n      ...PaymentFields\n    }\n  }\n": types.VerifyPaymentDocument,
    "\n  subscription PaymentUpdated($id: ID!) {\n    paymentUpdated(id: $id) {\n      ...PaymentFields\n    }\n  }\n": types.PaymentUpdatedDocument,
    "\n  fragment PaymentFields on Payment {\n    id\n    status\n    amount\n    currency\n    description\n    razorpayOrderId\n    updatedAt\n  }\n": types.PaymentFieldsFragmentDoc,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      ...Session\n    }\n  }\n"): (typeof documents)["\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      ...Session\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation LoginWithTotp($mfaToken: String!, $code: String!) {\n    loginWithTotp(mfaToken: $mfaToken, code: $code) {\n      ...Session\n    }\n  }\n"): (typeof documents)["\n  mutation LoginWithTotp($mfaToken: String!, $code: String!) {\n    loginWithTotp(mfaToken: $mfaToken, code: $code) {\n      ...Session\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RefreshToken($refreshToken: String!) {\n    refreshToken(refreshToken: $refreshToken) {\n      ...Session\n    }\n  }\n"): (typeof documents)["\n  mutation RefreshToken($refreshToken: String!) {\n    refreshToken(refreshToken: $refreshToken) {\n      ...Session\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Logout($refreshToken: String!) {\n    logout(refreshToken: $refreshToken)\n  }\n"): (typeof documents)["\n  mutation Logout($refreshToken: String!) {\n    logout(refreshToken: $refreshToken)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment Session on AuthPayload {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      id\n      email\n      role\n    }\n  }\n"): (typeof documents)["\n  fragment Session on AuthPayload {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      id\n      email\n      role\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreatePayment($input: CreatePaymentInput!) {\n    createPayment(input: $input) {\n      ...PaymentFields\n    }\n  }\n"): (typeof documents)["\n  mutation CreatePayment($input: CreatePaymentInput!) {\n    createPayment(input: $input) {\n      ...PaymentFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StartCheckout($paymentId: ID!) {\n    startCheckout(paymentId: $paymentId) {\n      paymentId\n      razorpayOrderId\n      razorpayKeyId\n      amount\n      amountMinor\n      currency\n    }\n  }\n"): (typeof documents)["\n  mutation StartCheckout($paymentId: ID!) {\n    startCheckout(paymentId: $paymentId) {\n      paymentId\n      razorpayOrderId\n      razorpayKeyId\n      amount\n      amountMinor\n      currency\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation VerifyPayment($input: VerifyPaymentInput!) {\n    verifyPayment(input: $input) {\n      ...PaymentFields\n    }\n  }\n"): (typeof documents)["\n  mutation VerifyPayment($input: VerifyPaymentInput!) {\n    verifyPayment(input: $input) {\n      ...PaymentFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription PaymentUpdated($id: ID!) {\n    paymentUpdated(id: $id) {\n      ...PaymentFields\n    }\n  }\n"): (typeof documents)["\n  subscription PaymentUpdated($id: ID!) {\n    paymentUpdated(id: $id) {\n      ...PaymentFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment PaymentFields on Payment {\n    id\n    status\n    amount\n    currency\n    description\n    razorpayOrderId\n    updatedAt\n  }\n"): (typeof documents)["\n  fragment PaymentFields on Payment {\n    id\n    status\n    amount\n    currency\n    description\n    razorpayOrderId\n    updatedAt\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;