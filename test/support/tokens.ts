import { createHmac } from 'node:crypto';
import jwt, { type SignOptions } from 'jsonwebtoken';

export const TEST_SECRET =
  'test-secret-that-is-long-enough-for-hs256-0123456789';
export const TEST_ISSUER = 'test-issuer';
export const TEST_AUDIENCE = 'test-api';

/** Signs a real HS256 JWT as the test issuer would. */
export function signToken(
  claims: Record<string, unknown> = {},
  options: SignOptions = {},
  secret: string = TEST_SECRET,
): string {
  return jwt.sign(
    { sub: 'client-1', scope: 'widgets:read', ...claims },
    secret,
    {
      algorithm: 'HS256',
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      expiresIn: 300,
      ...options,
    },
  );
}

/** An unsigned token (`alg: none`), which must always be refused. */
export function unsignedToken(claims: Record<string, unknown> = {}): string {
  const encode = (value: object) =>
    Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({
    sub: 'client-1',
    iss: TEST_ISSUER,
    aud: TEST_AUDIENCE,
    iat: now,
    exp: now + 300,
    scope: 'widgets:read widgets:write',
    ...claims,
  })}.`;
}

/**
 * An HS256 token signed over claims exactly as given, which `jwt.sign`
 * would refuse to write (a string `iat`): what a faulty issuer could send.
 */
export function signRawToken(claims: Record<string, unknown>): string {
  const encode = (value: object) =>
    Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const signed = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({
    sub: 'client-1',
    iss: TEST_ISSUER,
    aud: TEST_AUDIENCE,
    exp: now + 300,
    scope: 'widgets:read',
    ...claims,
  })}`;
  const signature = createHmac('sha256', TEST_SECRET)
    .update(signed)
    .digest('base64url');
  return `${signed}.${signature}`;
}
