import type { INestApplication, NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import {
  problemClientErrors,
  problemFrameworkErrors,
  useStrictBodyParsing,
} from 'nestjs-hal-problem';
import { createSampleApp } from '../../apps/sample/src/bootstrap';
import {
  loadSampleConfig,
  type HttpAdapterName,
} from '../../apps/sample/src/config/sample-config';

/** Every e2e suite runs once per adapter: both are first-class. */
export const ADAPTERS: readonly HttpAdapterName[] = ['express', 'fastify'];

/** A real app listening on a free loopback port, and a base URL to call it. */
export interface RunningApp {
  readonly app: INestApplication;
  readonly baseUrl: string;
  close(): Promise<void>;
}

async function listen(app: INestApplication): Promise<RunningApp> {
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer() as { address(): { port: number } };
  const baseUrl = `http://127.0.0.1:${server.address().port}`;
  return { app, baseUrl, close: () => app.close() };
}

/** Starts the sample app exactly as main.ts does, with env overrides. */
export async function startSample(
  adapter: HttpAdapterName,
  env: Record<string, string> = {},
): Promise<RunningApp> {
  const config = loadSampleConfig({ ...env, HTTP_ADAPTER: adapter });
  const app = await createSampleApp(config, { logger: false });
  return listen(app);
}

/** Compiles a testing module and starts it on a real adapter. */
export async function startTestingApp(
  adapter: HttpAdapterName,
  builder: TestingModuleBuilder,
  configure?: (app: INestApplication) => void | Promise<void>,
  {
    strictBodies = true,
    fastify = {},
    cors,
  }: {
    strictBodies?: boolean;
    /** `NestFactory.create`'s `cors` option, which Nest applies at `init()`. */
    cors?: NestApplicationOptions['cors'];
    /** More options of the Fastify instance (`useSemicolonDelimiter`...). */
    fastify?: ConstructorParameters<typeof FastifyAdapter>[0];
  } = {},
): Promise<RunningApp> {
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication(
    // Fastify's default body limit is 1 MiB; Express's is 100 kB: align them.
    adapter === 'fastify'
      ? new FastifyAdapter({
          bodyLimit: 100 * 1024,
          // As docs/problem-details.md tells Fastify users to create it.
          frameworkErrors: problemFrameworkErrors,
          clientErrorHandler: problemClientErrors,
          ...fastify,
        })
      : new ExpressAdapter(),
    { logger: false, bodyParser: !strictBodies, cors },
  );
  if (strictBodies) useStrictBodyParsing(app, { limit: 100 * 1024 });
  await configure?.(app);
  return listen(app);
}

export { Test };
