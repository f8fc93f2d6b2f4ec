import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { isKeySourceOutage, KeySourceError } from './auth.config';
import { jwksFetcher } from './jwks.fetcher';

describe('jwksFetcher', () => {
  let answer: {
    status: number;
    body: string | Buffer;
    gzip?: boolean;
    location?: string;
  } = {
    status: 200,
    body: '',
  };
  let server: Server;
  let uri: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (answer.status === 0) return; // stalls
      if (request.url === '/accept') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({ keys: [{ kid: request.headers.accept }] }),
        );
        return;
      }
      if (request.url === '/elsewhere') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"keys":[{"kid":"elsewhere"}]}');
        return;
      }
      response.writeHead(answer.status, {
        'content-type': 'application/json',
        ...(answer.gzip ? { 'content-encoding': 'gzip' } : {}),
        ...(answer.location ? { location: answer.location } : {}),
      });
      response.end(answer.body);
    });
    await new Promise<void>((resolve) =>
      server.listen(0, '127.0.0.1', resolve),
    );
    uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const failure = async (body: string, status = 200) => {
    answer = { status, body };
    return jwksFetcher()(uri).then(
      () => undefined,
      (error: unknown) => error,
    );
  };

  it('returns the keys that may verify (use, key_ops: RFC 7517 §4.2, §4.3)', async () => {
    answer = {
      status: 200,
      body: JSON.stringify({
        keys: [
          { kid: 'plain' },
          { kid: 'sig', use: 'sig' },
          { kid: 'enc', use: 'enc' },
          { kid: 'verify', key_ops: ['sign', 'verify'] },
          { kid: 'encrypt', key_ops: ['encrypt'] },
          { kid: 'ops-no-array', key_ops: 'verify' },
        ],
      }),
    };
    const { keys } = await jwksFetcher()(uri);
    expect(keys.map((key) => key.kid)).toEqual(['plain', 'sig', 'verify']);
  });

  it.each([
    ['an error status', '{"keys":[]}', 502],
    ['HTML', '<!doctype html>', 200],
    ['null', 'null', 200],
    ['keys that is no array', '{"keys":"x"}', 200],
    ['keys that are not JWKs', '{"keys":[null]}', 200],
  ])('fails on %s as a key source outage', async (_what, body, status) => {
    const error = await failure(body, status);
    expect(error).toBeInstanceOf(KeySourceError);
    expect(isKeySourceOutage(error)).toBe(true);
  });

  it('does not follow a redirect, as jwks-rsa does not: the configured jwksUri is the key source', async () => {
    answer = { status: 302, body: '', location: '/elsewhere' };
    const error = await jwksFetcher()(uri).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeySourceError);
    expect((error as Error).message).toMatch(/answered 302/);
  });

  it("sends the caller's Accept in place of its own, in any spelling", async () => {
    const accepted = async (headers?: Record<string, string>) =>
      (await jwksFetcher({ headers })(uri.replace('/jwks', '/accept'))).keys[0]
        .kid;
    expect(await accepted()).toBe('application/json');
    expect(await accepted({ Accept: 'application/jwk-set+json' })).toBe(
      'application/jwk-set+json',
    );
    expect(await accepted({ accept: 'application/jwk-set+json' })).toBe(
      'application/jwk-set+json',
    );
  });

  it('counts the bytes it decodes: a small gzip of a huge JWKS is refused', async () => {
    const huge = `{"keys":[${' '.repeat(16 * 1024 * 1024)}]}`;
    answer = { status: 200, body: gzipSync(huge), gzip: true };
    expect(answer.body.length).toBeLessThan(64 * 1024);
    const error = await jwksFetcher({ maxBytes: 64 * 1024 })(uri).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(KeySourceError);
    expect((error as Error).message).toMatch(/larger than maxBytes/);
  });

  it('fails on an endpoint that cannot be reached as an outage', async () => {
    const error = await jwksFetcher()('http://127.0.0.1:1/jwks').catch(
      (caught: unknown) => caught,
    );
    expect(isKeySourceOutage(error)).toBe(true);
  });

  it('fails on an endpoint that does not answer within timeoutMs as an outage', async () => {
    answer = { status: 0, body: '' };
    const error = await jwksFetcher({ timeoutMs: 50 })(uri).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(KeySourceError);
    expect(isKeySourceOutage(error)).toBe(true);
  });

  it.each([
    [{ maxBytes: 0 }, /maxBytes/],
    [{ maxBytes: 1.5 }, /maxBytes/],
    [{ maxBytes: Number.NaN }, /maxBytes/],
    [{ timeoutMs: -1 }, /timeoutMs/],
    [{ timeoutMs: Infinity }, /timeoutMs/],
    // Node fires a longer timer after 1 ms: every fetch would be aborted.
    [{ timeoutMs: 2 ** 31 }, /timeoutMs/],
  ])('refuses %p when created', (options, message) => {
    expect(() => jwksFetcher(options)).toThrow(message);
  });
});
