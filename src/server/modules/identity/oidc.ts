import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { AppError, invalid } from '../../../domain/errors.ts';
import type { AuthConfig } from './config.ts';
import { isLoopbackHost } from './config.ts';
import { secretDigest } from './pii.ts';
import type { IdentityService, SessionGrant } from './service.ts';

/** How long an authorization request may take from start to callback, ms (10 minutes). */
export const OIDC_FLOW_TTL_MS = 10 * 60_000;

/**
 * Sign-in through the province's unified identity platform (统一身份认证平台) with OpenID Connect Core 1.0:
 * authorization code flow with PKCE (RFC 7636, S256), `state` and `nonce`, using `openid-client`.
 * The request in flight (state, nonce, code verifier) is kept in the database under the hash of a random
 * flow id that only this browser holds (cookie), so any node can finish it and a forged callback fails.
 */
export class OidcLogin {
  private readonly identity: IdentityService;
  private readonly config: NonNullable<AuthConfig['oidc']>;
  private configuration: Promise<client.Configuration> | undefined;

  constructor(identity: IdentityService, config: NonNullable<AuthConfig['oidc']>) {
    this.identity = identity;
    this.config = config;
  }

  /** The provider's configuration, discovered once (`/.well-known/openid-configuration`), retried after a failure. */
  private discover(): Promise<client.Configuration> {
    if (!this.configuration) {
      const issuer = new URL(this.config.issuer);
      // plain http only for a provider on this machine (tests, development)
      const insecure = issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname);
      this.configuration = client
        .discovery(
          issuer,
          this.config.clientId,
          this.config.clientSecret,
          undefined,
          insecure ? { execute: [client.allowInsecureRequests] } : undefined,
        )
        .catch((cause) => {
          this.configuration = undefined;
          throw new AppError(
            'unavailable',
            'auth.oidc_unavailable',
            'The identity platform cannot be reached; try again later or sign in another way.',
            { cause },
          );
        });
    }
    return this.configuration;
  }

  /**
   * Starts a sign-in: returns the provider's authorization URL to redirect the browser to, and the flow id
   * to keep in a short-lived httpOnly cookie. `returnTo` must be a path on this site (`/…`).
   * @throws 400 `auth.return_to_invalid`; 503 `auth.oidc_unavailable`.
   */
  async start(returnTo = '/'): Promise<{ url: string; flowId: string }> {
    if (!/^\/(?![/\\])[^\s]*$/.test(returnTo))
      throw invalid(
        'returnTo',
        'returnTo must be a path on this site, starting with a single "/".',
        'auth.return_to_invalid',
      );
    const config = await this.discover();
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const flowId = randomBytes(32).toString('base64url');
    const now = this.identity.now();
    await this.identity.flows.deleteFlowsBefore(new Date(now.getTime() - OIDC_FLOW_TTL_MS));
    await this.identity.flows.insertFlow({
      idHash: secretDigest(flowId),
      state,
      nonce,
      codeVerifier,
      returnTo,
      createdAt: now,
    });
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.config.redirectUri,
      scope: 'openid profile phone',
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, flowId };
  }

  /**
   * Finishes a sign-in at the redirect URI: checks state, exchanges the code with the PKCE verifier,
   * validates the ID token (signature, issuer, audience, nonce), reads the claims (and UserInfo), maps
   * issuer + sub to an account ({@link IdentityService.accountForFederatedIdentity}) and starts a session.
   * @param flowId from the flow cookie; @param query the callback's query string (without `?`).
   * @throws 401 `auth.oidc_failed` (no/expired flow, state mismatch, provider error, bad token);
   *   403 `auth.oidc_unverified`.
   */
  async callback(flowId: string | undefined, query: string): Promise<SessionGrant & { returnTo: string }> {
    const failed = (why: string, cause?: unknown) =>
      new AppError(
        'unauthenticated',
        'auth.oidc_failed',
        `Sign-in through the identity platform failed: ${why}. Start again.`,
        {
          cause,
        },
      );
    if (!flowId) throw failed('this browser did not start it (no flow cookie)');
    const flow = await this.identity.flows.takeFlow(
      secretDigest(flowId),
      new Date(this.identity.now().getTime() - OIDC_FLOW_TTL_MS),
    );
    if (!flow) throw failed('the request expired or was already used');
    const config = await this.discover();
    const currentUrl = new URL(this.config.redirectUri);
    currentUrl.search = query;
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: flow.codeVerifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
    } catch (cause) {
      throw failed((cause as Error).message.slice(0, 200), cause);
    }
    const idToken = tokens.claims();
    if (!idToken) throw failed('no ID token');
    let claims: Record<string, unknown> = { ...idToken };
    try {
      const info = await client.fetchUserInfo(config, tokens.access_token, idToken.sub);
      claims = { ...info, ...claims };
    } catch {
      // UserInfo is optional: the ID token's claims are used alone
    }
    const claim = this.config.idNumberClaim;
    const verified = claims[`${claim}_verified`] === true;
    const account = await this.identity.accountForFederatedIdentity({
      issuer: idToken.iss,
      subject: idToken.sub,
      idNumber: verified && typeof claims[claim] === 'string' ? (claims[claim] as string) : undefined,
      name: typeof claims.name === 'string' ? claims.name : undefined,
      phone: typeof claims.phone_number === 'string' ? claims.phone_number : undefined,
    });
    const grant = await this.identity.startSession(account, 'oidc', false);
    return { ...grant, returnTo: flow.returnTo };
  }
}
