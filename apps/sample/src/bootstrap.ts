import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ExpressAdapter,
  type NestExpressApplication,
} from '@nestjs/platform-express';
import {
  FastifyAdapter,
  type NestFastifyApplication,
} from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import type { SampleConfig } from './config/sample-config';

/**
 * Creates the sample app on the configured adapter, without listening, so
 * that main.ts and the e2e tests build exactly the same app.
 */
export async function createSampleApp(
  config: SampleConfig,
  options: { logger?: false } = {},
): Promise<INestApplication> {
  const module = AppModule.register(config);
  if (config.httpAdapter === 'fastify') {
    const app = await NestFactory.create<NestFastifyApplication>(
      module,
      new FastifyAdapter({
        bodyLimit: config.bodyLimitBytes,
        trustProxy: config.trustProxy,
      }),
      { logger: options.logger, bufferLogs: options.logger !== false },
    );
    return app;
  }
  const app = await NestFactory.create<NestExpressApplication>(
    module,
    new ExpressAdapter(),
    {
      logger: options.logger,
      bodyParser: false,
      bufferLogs: options.logger !== false,
    },
  );
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.useBodyParser('json', { limit: config.bodyLimitBytes });
  app.useBodyParser('urlencoded', {
    limit: config.bodyLimitBytes,
    extended: false,
  });
  return app;
}
