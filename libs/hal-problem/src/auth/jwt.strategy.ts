import { PassportStrategy } from '@nestjs/passport';
import type { Jwt } from 'jsonwebtoken';
import {
  ExtractJwt,
  Strategy,
  type StrategyOptionsWithoutRequest,
} from 'passport-jwt';
import type { AuthPrincipal } from './auth-options.interface';
import { type AuthConfig, HAL_JWT_STRATEGY } from './auth.config';

/**
 * passport-jwt configured from the module's auth options: the token only
 * from `Authorization: Bearer`, the algorithm allow-list, and issuer and
 * audience at passport-jwt's top level (its `jsonWebTokenOptions` cannot
 * override them). Created by the module only when auth is configured.
 */
export class HalJwtStrategy extends PassportStrategy(
  Strategy,
  HAL_JWT_STRATEGY,
) {
  constructor(private readonly config: AuthConfig) {
    const { secretOrKey, secretOrKeyProvider } = config.options;
    const { algorithms, issuer, audience, clockTolerance } =
      config.verifyOptions;
    const options = {
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      algorithms,
      issuer,
      audience,
      ignoreExpiration: false,
      // `complete`: validate() gets the header too, for `tokenType`.
      jsonWebTokenOptions: { clockTolerance, complete: true },
      ...(secretOrKey !== undefined
        ? { secretOrKey }
        : { secretOrKeyProvider }),
    } as StrategyOptionsWithoutRequest;
    super(options);
  }

  validate(token: Jwt): AuthPrincipal {
    return this.config.principalOfToken(token);
  }
}
