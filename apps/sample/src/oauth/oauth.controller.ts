import {
  Body,
  Controller,
  Header,
  Headers,
  HttpCode,
  Inject,
  Post,
} from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiOkResponse, ApiProperty } from '@nestjs/swagger';
import {
  ApiProblemResponses,
  Consumes,
  ProblemException,
  Public,
  SkipHal,
  type ProblemType,
} from 'nestjs-hal-problem';
import type { OAuthClient, SampleConfig } from '../config/sample-config';
import { SAMPLE_CONFIG } from '../config/sample-config.token';
import {
  OAuthInvalidClient,
  OAuthInvalidRequest,
  OAuthInvalidScope,
  OAuthUnsupportedGrantType,
} from './oauth.problems';

export const TOKEN_LIFETIME_SECONDS = 3600;

/** RFC 6749 §5.1 access token response. */
class TokenResponse {
  @ApiProperty() access_token: string;
  @ApiProperty({ enum: ['Bearer'] }) token_type: 'Bearer';
  @ApiProperty({ example: 3600 }) expires_in: number;
  @ApiProperty({ example: 'orders:read' }) scope: string;
}

/** Compares secrets in constant time (hashing first makes the lengths equal). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function oauthError(
  type: ProblemType,
  error: string,
  detail: string,
  headers?: Record<string, string>,
) {
  return new ProblemException(type, { detail, extensions: { error }, headers });
}

/**
 * The client-credentials grant (RFC 6749 §4.4). Success is plain JSON with
 * `Cache-Control: no-store`, as RFC 6749 §5.1 requires, not HAL.
 */
@Controller('oauth')
@SkipHal()
@Public()
export class OAuthController {
  constructor(@Inject(SAMPLE_CONFIG) private readonly config: SampleConfig) {}

  @Post('token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @Consumes(['application/x-www-form-urlencoded', 'application/json'])
  @ApiOkResponse({
    type: TokenResponse,
    description: 'An access token (plain JSON, Cache-Control: no-store).',
  })
  @ApiProblemResponses(OAuthInvalidRequest, OAuthInvalidClient)
  token(
    @Body() body: unknown,
    @Headers('authorization') authorization: string | undefined,
  ): TokenResponse {
    const params = this.parameters(body);
    if (params.grant_type === undefined) {
      throw oauthError(
        OAuthInvalidRequest,
        'invalid_request',
        'The grant_type parameter is required.',
      );
    }
    if (params.grant_type !== 'client_credentials') {
      throw oauthError(
        OAuthUnsupportedGrantType,
        'unsupported_grant_type',
        'Only client_credentials is supported.',
      );
    }
    const client = this.authenticate(params, authorization);
    const requested =
      params.scope === undefined
        ? [...client.scopes]
        : params.scope.split(' ').filter(Boolean);
    const refused = requested.filter((scope) => !client.scopes.includes(scope));
    if (refused.length > 0 || requested.length === 0) {
      throw oauthError(
        OAuthInvalidScope,
        'invalid_scope',
        `Scopes not granted to this client: ${refused.join(' ') || '(none requested)'}.`,
      );
    }
    const scope = requested.join(' ');
    const accessToken = jwt.sign({ scope }, this.config.jwtSecret, {
      algorithm: 'HS256',
      subject: client.id,
      issuer: this.config.jwtIssuer,
      audience: this.config.jwtAudience,
      expiresIn: TOKEN_LIFETIME_SECONDS,
    });
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: TOKEN_LIFETIME_SECONDS,
      scope,
    };
  }

  private parameters(body: unknown): Record<string, string | undefined> {
    if (typeof body !== 'object' || body === null) return {};
    const params: Record<string, string | undefined> = {};
    for (const name of ['grant_type', 'client_id', 'client_secret', 'scope']) {
      const value = (body as Record<string, unknown>)[name];
      if (value === undefined) continue;
      if (typeof value !== 'string') {
        throw oauthError(
          OAuthInvalidRequest,
          'invalid_request',
          `The ${name} parameter must be given once, as a string.`,
        );
      }
      params[name] = value;
    }
    return params;
  }

  private authenticate(
    params: Record<string, string | undefined>,
    authorization: string | undefined,
  ): OAuthClient {
    let id = params.client_id;
    let secret = params.client_secret;
    const basic = authorization?.match(/^Basic +([A-Za-z0-9+/]+=*) *$/i)?.[1];
    if (authorization && !basic) {
      throw oauthError(
        OAuthInvalidRequest,
        'invalid_request',
        'Client credentials go in HTTP Basic or in the body.',
      );
    }
    if (basic) {
      if (secret !== undefined) {
        throw oauthError(
          OAuthInvalidRequest,
          'invalid_request',
          'Use one way of client authentication, not two.',
        );
      }
      const decoded = Buffer.from(basic, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon === -1) {
        throw oauthError(
          OAuthInvalidRequest,
          'invalid_request',
          'HTTP Basic credentials must be id:secret.',
        );
      }
      try {
        // RFC 6749 §2.3.1: both parts are form-urlencoded.
        id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
        secret = decodeURIComponent(
          decoded.slice(colon + 1).replace(/\+/g, ' '),
        );
      } catch {
        throw oauthError(
          OAuthInvalidRequest,
          'invalid_request',
          'HTTP Basic credentials are not form-urlencoded.',
        );
      }
    }
    // Every 401 carries a challenge (RFC 9110 §15.5.2); here it names the
    // scheme this endpoint authenticates clients with (RFC 6749 §2.3.1),
    // whether the failed credentials came in Basic or in the body.
    const challenge = { 'WWW-Authenticate': 'Basic realm="orders"' };
    const client = this.config.oauthClients.find(
      (candidate) => candidate.id === id,
    );
    // Compare a secret even for an unknown id, so timing does not tell which ids exist.
    const valid =
      sameSecret(secret ?? '', client?.secret ?? 'no-such-client-secret') &&
      client !== undefined;
    if (!valid || !client) {
      throw oauthError(
        OAuthInvalidClient,
        'invalid_client',
        'Client authentication failed.',
        challenge,
      );
    }
    return client;
  }
}
