import type { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ExpressAdapter,
  type NestExpressApplication,
} from '@nestjs/platform-express';
import {
  FastifyAdapter,
  type NestFastifyApplication,
} from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import createExpressApp from 'express';
import {
  HalProblemOpenApi,
  problemClientErrors,
  problemFrameworkErrors,
  RouteTable,
  useStrictBodyParsing,
} from 'nestjs-hal-problem';
import { AppModule } from './app.module';
import { ApiDocsMount } from './docs/api-docs.mount';
import type { SampleConfig } from './config/sample-config';

/**
 * Creates the sample app on the configured adapter, without listening, so
 * that main.ts and the e2e tests build exactly the same app.
 */
export async function createSampleApp(
  config: SampleConfig,
  options: { logger?: false | LoggerService } = {},
): Promise<INestApplication> {
  const module = AppModule.register(config);
  const appOptions = {
    logger: options.logger,
    bodyParser: false,
    bufferLogs: options.logger !== false,
  };
  let app: INestApplication;
  if (config.httpAdapter === 'fastify') {
    app = await NestFactory.create<NestFastifyApplication>(
      module,
      new FastifyAdapter({
        bodyLimit: config.bodyLimitBytes,
        // The same hop count as Express's and the module's. (Fastify takes
        // a number as "trust none" since its hop-count-only fix, so a
        // function says it: the nearest `trustProxy` hops are proxies.)
        trustProxy: config.trustProxy
          ? (_address: string, hop: number) => hop < config.trustProxy
          : false,
        // Malformed paths and over-long parameters, refused by Fastify's
        // router before Nest runs, and requests Node's parser refuses,
        // answered as problems too.
        frameworkErrors: problemFrameworkErrors,
        clientErrorHandler: problemClientErrors,
      }),
      appOptions,
    );
  } else {
    // Paths matched as Fastify matches them by default, so that one
    // contract holds on both: /Orders and /orders/ are unknown paths (404),
    // not /orders. Express reads these when it creates its router, which
    // the adapter does at once: they are set on the instance it is given.
    const instance = createExpressApp();
    instance.set('case sensitive routing', true);
    instance.set('strict routing', true);
    // Fastify sends no ETag (and so answers no If-None-Match with 304);
    // Express would tag every body it sends, problems included.
    instance.set('etag', false);
    const express = await NestFactory.create<NestExpressApplication>(
      module,
      new ExpressAdapter(instance),
      appOptions,
    );
    express.disable('x-powered-by');
    express.set('trust proxy', config.trustProxy);
    app = express;
  }
  useStrictBodyParsing(app, { limit: config.bodyLimitBytes });
  setUpApiDocs(app);
  return app;
}

/** GET /docs (Swagger UI) and /docs-json: the OpenAPI document, with the HAL and problem truth written in. */
function setUpApiDocs(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Orders API')
    .setDescription(
      'The nestjs-hal-problem sample: HAL (application/hal+json) for every success, RFC 9457 problems for every error.',
    )
    .setVersion('1.0')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      'bearer',
    )
    .build();
  const document = HalProblemOpenApi.enhance(
    app,
    SwaggerModule.createDocument(app, config),
    {
      // MaintenanceMiddleware's 503 (MAINTENANCE_MODE), on every route but
      // GET /health. Listed whatever the mode: in maintenance /docs-json
      // itself answers 503, so a document listing it only then is never read.
      problemResponses: ({ method, path }) =>
        method === 'GET' && path === '/health' ? [] : [503],
    },
  );
  app.get(ApiDocsMount).schedule(() =>
    SwaggerModule.setup('docs', app, document, {
      jsonDocumentUrl: 'docs-json',
      raw: ['json'],
    }),
  );
  // Not Nest routes: declared so that other methods on them answer 405.
  const routes = app.get(RouteTable);
  for (const path of ['/docs', '/docs-json', '/docs/*file'])
    routes.declareExternalRoute('GET', path);
}
