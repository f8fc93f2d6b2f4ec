import type { LoggerService } from '@nestjs/common';
import { createSampleApp } from '../apps/sample/src/bootstrap';
import { loadSampleConfig } from '../apps/sample/src/config/sample-config';
import { ADAPTERS } from './support/adapters';
import { socketRequest } from './support/raw-http';

class Lines implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown) {
    this.lines.push(String(message));
  }
  error(message: unknown) {
    this.lines.push(String(message));
  }
  warn(message: unknown) {
    this.lines.push(String(message));
  }
  debug(message: unknown) {
    this.lines.push(String(message));
  }
  verbose(message: unknown) {
    this.lines.push(String(message));
  }
}

describe.each(ADAPTERS)('request ids in the sample logs on %s', (adapter) => {
  it('logs every request, success or error, with the id the client got', async () => {
    const logger = new Lines();
    const app = await createSampleApp(
      loadSampleConfig({ HTTP_ADAPTER: adapter }),
      { logger },
    );
    await app.listen(0, '127.0.0.1');
    const { port } = (
      app.getHttpServer() as { address(): { port: number } }
    ).address();
    try {
      const ok = await fetch(`http://127.0.0.1:${port}/`, {
        headers: { 'x-request-id': 'trace-ok-1' },
      });
      expect(ok.headers.get('x-request-id')).toBe('trace-ok-1');
      const missing = await fetch(`http://127.0.0.1:${port}/nowhere`, {
        headers: { 'x-request-id': 'trace-404-1' },
      });
      expect(missing.headers.get('x-request-id')).toBe('trace-404-1');
      // The Swagger UI and document are not Nest routes; they carry ids too.
      for (const path of ['/docs-json', '/docs']) {
        const docs = await fetch(`http://127.0.0.1:${port}${path}`, {
          headers: { 'x-request-id': `trace${path.replace('/', '-')}` },
        });
        expect(docs.status).toBe(200);
        expect(docs.headers.get('x-request-id')).toBe(
          `trace${path.replace('/', '-')}`,
        );
        await docs.arrayBuffer();
      }
      const generated = await fetch(`http://127.0.0.1:${port}/health`);
      const id = generated.headers.get('x-request-id')!;
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(
        logger.lines.some((line) =>
          /^GET \/ 200 .*requestId=trace-ok-1$/.test(line),
        ),
      ).toBe(true);
      expect(
        logger.lines.some((line) =>
          /^GET \/nowhere 404 .*requestId=trace-404-1$/.test(line),
        ),
      ).toBe(true);
      expect(
        logger.lines.some((line) => line.endsWith(`requestId=${id}`)),
      ).toBe(true);
      expect(
        logger.lines.some((line) =>
          /^GET \/docs-json 200 .*requestId=trace-docs-json$/.test(line),
        ),
      ).toBe(true);
    } finally {
      await app.close();
    }
  });

  it('names the path of a request in absolute form, never its credentials', async () => {
    const logger = new Lines();
    const app = await createSampleApp(
      loadSampleConfig({ HTTP_ADAPTER: adapter }),
      { logger },
    );
    await app.listen(0, '127.0.0.1');
    const { port } = (
      app.getHttpServer() as { address(): { port: number } }
    ).address();
    try {
      // What a client talking to a proxy sends: both platforms route it by its path.
      const response = await socketRequest(
        `http://127.0.0.1:${port}`,
        'GET http://alice:s3cret@x/health?token=t HTTP/1.1\r\nHost: x\r\nX-Request-Id: trace-absolute\r\nConnection: close\r\n\r\n',
      );
      expect(response.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const line = logger.lines.find((text) =>
        text.endsWith('requestId=trace-absolute'),
      );
      expect(line).toMatch(/^GET \/health 200 /);
      expect(logger.lines.join('\n')).not.toMatch(/s3cret|alice|token=t/);
    } finally {
      await app.close();
    }
  });
});
