import { ADAPTERS, startSample, type RunningApp } from './support/adapters';

describe.each(ADAPTERS)('sample app foundation on %s', (adapter) => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startSample(adapter);
  });
  afterAll(() => running.close());

  it('serves GET /health over real HTTP', async () => {
    const response = await fetch(`${running.baseUrl}/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('does not advertise the framework', async () => {
    const response = await fetch(`${running.baseUrl}/health`);
    expect(response.headers.get('x-powered-by')).toBeNull();
  });
});
