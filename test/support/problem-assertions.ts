import type { ProblemDetails } from 'nestjs-hal-problem';

/** Reads a response that must be an RFC 9457 problem and checks its invariants. */
export async function expectProblem(
  response: Response,
  status: number,
): Promise<ProblemDetails> {
  const text = await response.text();
  expect({ status: response.status, body: text }).toMatchObject({ status });
  expect(response.headers.get('content-type')).toMatch(
    /^application\/problem\+json(;|$)/,
  );
  const body = JSON.parse(text) as ProblemDetails;
  expect(body).toEqual(
    expect.objectContaining({
      type: expect.any(String),
      title: expect.any(String),
      status,
      detail: expect.any(String),
      instance: expect.any(String),
      requestId: response.headers.get('x-request-id'),
    }),
  );
  expect(body).not.toHaveProperty('statusCode');
  expect(body).not.toHaveProperty('message');
  expect(
    body.type === 'about:blank' || /^[a-z][a-z0-9+.-]*:/i.test(body.type),
  ).toBe(true);
  expect(body.detail.length).toBeGreaterThan(0);
  if (status >= 500) {
    expect(text).not.toMatch(/stack|at \w+ \(|\.ts:\d+|\.js:\d+/);
  }
  return body;
}
