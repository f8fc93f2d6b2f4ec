import {
  answerFrameworkErrorsOf,
  frameworkErrorHost,
  problemFrameworkErrors,
} from './fastify-framework-errors';

describe('problemFrameworkErrors', () => {
  it("leaves the answer to Fastify before the app's filter is registered", () => {
    const sent: unknown[] = [];
    const error = new Error('bad url');
    problemFrameworkErrors(
      error,
      { server: {} },
      { send: (payload: unknown) => sent.push(payload) },
    );
    expect(sent).toEqual([error]);
  });

  it("hands the error to the filter registered for the request's server", () => {
    const server = {};
    const seen: unknown[] = [];
    answerFrameworkErrorsOf(server, (error, request, reply) =>
      seen.push(error, request, reply),
    );
    const error = new Error('bad url');
    const request = { server };
    const reply = { send: () => undefined };
    problemFrameworkErrors(error, request, reply);
    expect(seen).toEqual([error, request, reply]);
  });

  it('gives the filter an HTTP host with the request and the reply', () => {
    const request = {};
    const reply = {};
    const host = frameworkErrorHost(request, reply);
    expect(host.getType()).toBe('http');
    expect(host.switchToHttp().getRequest()).toBe(request);
    expect(host.switchToHttp().getResponse()).toBe(reply);
    expect(() => host.switchToRpc()).toThrow();
  });
});
