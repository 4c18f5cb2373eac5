// Errors by the contract's codes (extensions.code): what the user is told, and what the code does.
import type { CombinedError } from '@urql/core';
import type { GraphQLError } from 'graphql';

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'PAYMENT_PROVIDER_ERROR'
  | 'SERVICE_UNAVAILABLE'
  | 'MFA_REQUIRED'
  | 'INTERNAL_SERVER_ERROR';

/** An operation's failure with the contract's code and extensions. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode | string,
    message: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** What to show the user. */
  get userMessage(): string {
    const retryAfter = this.extensions['retryAfter'];
    switch (this.code) {
      case 'UNAUTHENTICATED':
        return this.message || 'Please log in again.';
      case 'FORBIDDEN':
        return 'You are not allowed to do that.';
      case 'BAD_USER_INPUT': {
        const field = this.extensions['field'];
        return typeof field === 'string' ? `${field}: ${this.message}` : this.message;
      }
      case 'NOT_FOUND':
        return 'Not found.';
      case 'CONFLICT':
        return this.message;
      case 'RATE_LIMITED':
      case 'SERVICE_UNAVAILABLE':
        return `${this.code === 'RATE_LIMITED' ? 'Too many attempts' : 'Temporarily unavailable'}` +
          (typeof retryAfter === 'number' ? `; try again in ${retryAfter} s.` : '; try again later.');
      case 'PAYMENT_PROVIDER_ERROR':
        return 'The payment provider did not answer; try again.';
      default:
        return 'Something went wrong; try again.';
    }
  }
}

function fromGraphQLError(error: GraphQLError): ApiError {
  const extensions = (error.extensions ?? {}) as Record<string, unknown>;
  const code = typeof extensions['code'] === 'string' ? extensions['code'] : 'INTERNAL_SERVER_ERROR';
  return new ApiError(code, error.message, extensions);
}

/** The first error of an urql result as an ApiError (network failures included). */
export function toApiError(error: CombinedError): ApiError {
  const first = error.graphQLErrors[0];
  if (first) return fromGraphQLError(first);
  return new ApiError('SERVICE_UNAVAILABLE', 'The server cannot be reached.');
}
