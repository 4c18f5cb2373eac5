// The GraphQL client: urql over HTTP for queries and mutations, graphql-ws for subscriptions,
// every operation sent as a persisted (trusted) document by its sha256 hash. The access token
// lives in memory only (never localStorage); it is refreshed a minute before it expires and
// once more when the router answers UNAUTHENTICATED.
import {
  Client,
  fetchExchange,
  subscriptionExchange,
  type AnyVariables,
  type TypedDocumentNode,
} from '@urql/core';
import { persistedExchange } from '@urql/exchange-persisted';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import type { MfeConfig } from './config';
import { ApiError, toApiError } from './errors';
import { RefreshTokenMutation } from './operations';
import type { SessionFragment } from './gql/graphql';

type Listener = (session: SessionFragment | null) => void;

export class Api {
  private session: SessionFragment | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshing: Promise<boolean> | null = null;
  private ws: WsClient;
  readonly client: Client;
  onSessionChange: Listener = () => {};

  constructor(private readonly config: MfeConfig) {
    this.ws = this.makeWsClient();
    this.client = new Client({
      url: config.graphqlUrl,
      requestPolicy: 'network-only',
      // The token is read for every request: a refreshed token is used at once.
      fetchOptions: () => {
        const token = this.session?.accessToken;
        return token ? { headers: { authorization: `Bearer ${token}` } } : {};
      },
      exchanges: [
        persistedExchange({
          // The client preset embeds each document's sha256 in the document itself.
          generateHash: async (_query, document) =>
            (document as { __meta__?: { hash?: string } }).__meta__?.hash ?? '',
          enforcePersistedQueries: true,
          enableForMutation: true,
          enableForSubscriptions: true,
          preferGetForPersistedQueries: false,
        }),
        fetchExchange,
        subscriptionExchange({
          forwardSubscription: (request) => ({
            subscribe: (sink) => ({
              // Persisted: the hash travels in extensions; graphql-ws wants a query string.
              unsubscribe: this.ws.subscribe({ ...request, query: request.query ?? '' }, sink),
            }),
          }),
        }),
      ],
    });
  }

  private makeWsClient(): WsClient {
    return createWsClient({
      url: this.config.graphqlWsUrl,
      lazy: true,
      // Read when the socket (re)connects: the current token.
      connectionParams: () =>
        this.session ? { Authorization: `Bearer ${this.session.accessToken}` } : {},
    });
  }

  get user(): SessionFragment['user'] | null {
    return this.session?.user ?? null;
  }

  get refreshToken(): string | null {
    return this.session?.refreshToken ?? null;
  }

  /** Keep a new session (login, TOTP step, refresh) and schedule its refresh. */
  setSession(session: SessionFragment | null): void {
    const sameUser = session?.user.id === this.session?.user.id;
    this.session = session;
    clearTimeout(this.refreshTimer);
    if (session) {
      const inMs = Math.max(5, session.expiresIn - 60) * 1000;
      this.refreshTimer = setTimeout(() => void this.refresh(), inMs);
    }
    if (!sameUser) {
      // Another user (or none): no subscription may go on with the old token.
      void this.ws.dispose();
      this.ws = this.makeWsClient();
    }
    this.onSessionChange(session);
  }

  /** Rotate the tokens with refreshToken; false (and logged out) when that fails. */
  refresh(): Promise<boolean> {
    const refreshToken = this.session?.refreshToken;
    if (!refreshToken) return Promise.resolve(false);
    this.refreshing ??= this.client
      .mutation(RefreshTokenMutation, { refreshToken })
      .toPromise()
      .then((result) => {
        const session = result.data?.refreshToken ?? null;
        this.setSession(session);
        return session !== null;
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  /** Run a mutation; an UNAUTHENTICATED answer refreshes the tokens and tries once more. */
  async mutate<Data, Variables extends AnyVariables>(
    document: TypedDocumentNode<Data, Variables>,
    variables: Variables,
  ): Promise<Data> {
    for (let attempt = 0; ; attempt++) {
      const result = await this.client.mutation(document, variables).toPromise();
      if (result.error) {
        const error = toApiError(result.error);
        if (error.code === 'UNAUTHENTICATED' && attempt === 0 && this.session && (await this.refresh())) {
          continue;
        }
        throw error;
      }
      if (!result.data) throw new ApiError('INTERNAL_SERVER_ERROR', 'No data in the answer.');
      return result.data;
    }
  }

  /** Subscribe; returns the function that ends the subscription. */
  subscribe<Data, Variables extends AnyVariables>(
    document: TypedDocumentNode<Data, Variables>,
    variables: Variables,
    onData: (data: Data) => void,
    onError: (error: ApiError) => void,
  ): () => void {
    const { unsubscribe } = this.client.subscription(document, variables).subscribe((result) => {
      if (result.error) onError(toApiError(result.error));
      else if (result.data) onData(result.data);
    });
    return unsubscribe;
  }

  /** Forget the tokens and close the WebSocket. */
  clear(): void {
    this.setSession(null);
  }
}
