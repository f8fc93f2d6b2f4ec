import jwt from 'jsonwebtoken';
import { classifyTokenError } from './auth.config';
import { jwksKeyProvider } from './jwks.key-provider';

describe('jwksKeyProvider', () => {
  const token = (header: Record<string, unknown>) =>
    [
      Buffer.from(JSON.stringify(header)).toString('base64url'),
      Buffer.from('{"sub":"s"}').toString('base64url'),
      'c2ln',
    ].join('.');
  const lookedUp: unknown[] = [];
  const provider = jwksKeyProvider({
    getSigningKey: (kid) => {
      lookedUp.push(kid);
      if (kid === 'broken')
        return Promise.resolve({
          getPublicKey: () => {
            throw new TypeError('no key');
          },
        });
      return kid === 'rs'
        ? Promise.resolve({ alg: 'RS256', getPublicKey: () => 'PEM' })
        : Promise.reject(
            Object.assign(new Error('no such kid'), {
              name: 'SigningKeyNotFoundError',
            }),
          );
    },
  });
  const keyFor = (raw: string) =>
    new Promise<{ error: unknown; key?: unknown }>((resolve) =>
      provider({}, raw, (error, key) => resolve({ error, key })),
    );

  beforeEach(() => (lookedUp.length = 0));

  it('gives the key for the algorithm its JWK declares, and refuses another', async () => {
    expect(await keyFor(token({ alg: 'RS256', kid: 'rs' }))).toEqual({
      error: null,
      key: 'PEM',
    });
    const { error } = await keyFor(token({ alg: 'PS256', kid: 'rs' }));
    expect(classifyTokenError(error)).toBe('bad_algorithm');
  });

  it.each([
    [{ kid: 'rs' }],
    [{ alg: 'RS256', kid: 7 }],
    [{ alg: 'RS256', kid: ['rs'] }],
  ])('refuses a header %p as malformed without a lookup', async (header) => {
    const { error } = await keyFor(token(header));
    expect(error).toBeInstanceOf(jwt.JsonWebTokenError);
    expect(classifyTokenError(error)).toBe('malformed');
    expect(lookedUp).toEqual([]);
  });

  it('refuses a payload that is no JSON as malformed, never throwing (a throw reads as a key source outage)', async () => {
    const raw = [
      Buffer.from('{"alg":"RS256","typ":"JWT","kid":"rs"}').toString(
        'base64url',
      ),
      Buffer.from('not json').toString('base64url'),
      'c2ln',
    ].join('.');
    const { error } = await keyFor(raw);
    expect(error).toBeInstanceOf(jwt.JsonWebTokenError);
    expect(classifyTokenError(error)).toBe('malformed');
    expect(lookedUp).toEqual([]);
  });

  it('passes the client’s failures on, and a key it cannot export', async () => {
    const unknown = await keyFor(token({ alg: 'RS256', kid: 'k9' }));
    expect(unknown.error).toMatchObject({ name: 'SigningKeyNotFoundError' });
    const broken = await keyFor(token({ alg: 'RS256', kid: 'broken' }));
    expect(broken.error).toBeInstanceOf(TypeError);
  });
});
