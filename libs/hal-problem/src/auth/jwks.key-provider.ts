import jwt from 'jsonwebtoken';
import type { SecretOrKeyProvider } from './auth-options.interface';
import { decodeUnverified } from './auth.config';

/**
 * What `jwksKeyProvider` needs of a JWKS client: jwks-rsa's `JwksClient`
 * fits, with its cache and rate limit. A signing key's `alg` is the JWK's,
 * when the JWK declares one.
 */
export interface JwksSigningKeySource {
  getSigningKey(
    kid?: string | null,
  ): Promise<{ readonly alg?: string; getPublicKey(): string }>;
}

/**
 * A key provider over a JWKS client (jwks-rsa's `new JwksClient({...})`)
 * that uses a key only with the algorithm its JWK declares (RFC 7517 §4.4,
 * RFC 8725 §3.1): with `algorithms: ['RS256', 'PS256']`, a PS256 token is
 * refused (401 `bad_algorithm`) against a JWK of `alg: "RS256"`, which
 * jwks-rsa's `passportJwtSecret` would hand over as a bare public key. A
 * JWK without `alg` takes any accepted algorithm of its key type. A `kid`
 * the JWKS lacks is jwks-rsa's `SigningKeyNotFoundError` (401); a key source
 * that fails is a 503, as for any key provider.
 */
export function jwksKeyProvider(
  client: JwksSigningKeySource,
): SecretOrKeyProvider {
  return (_request, rawJwtToken, done) => {
    // Read unverified only to choose the key; the signature check decides.
    const header = decodeUnverified(rawJwtToken)?.header;
    // `kid` is a string (RFC 7515 §4.1.4); jwks-rsa would look any other up as given.
    if (
      !header ||
      typeof header.alg !== 'string' ||
      (header.kid !== undefined && typeof header.kid !== 'string')
    ) {
      done(new jwt.JsonWebTokenError('jwt malformed'));
      return;
    }
    client.getSigningKey(header.kid).then(
      (key) => {
        if (typeof key.alg === 'string' && key.alg !== header.alg) {
          done(new jwt.JsonWebTokenError('invalid algorithm'));
          return;
        }
        let publicKey: string;
        try {
          publicKey = key.getPublicKey();
        } catch (error) {
          done(error);
          return;
        }
        done(null, publicKey);
      },
      (error: unknown) => done(error),
    );
  };
}
