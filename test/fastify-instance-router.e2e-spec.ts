import { Module } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import fastify from 'fastify';
import { useStrictBodyParsing } from 'nestjs-hal-problem';
import { problemFixtureModule } from './fixtures/problem-fixture.module';
import { expectProblem } from './support/problem-assertions';

@Module(
  problemFixtureModule({
    problemTypeBaseUri: 'https://problems.test/',
    bodyLimit: 100 * 1024,
  }),
)
class FixtureAppModule {}

// A Fastify instance handed to the adapter, as Nest allows: its
// initialConfig.routerOptions holds Fastify's defaults for what it was not
// given, while its router takes the top-level option.
describe.each([
  [
    'top level and routerOptions',
    { ignoreDuplicateSlashes: true, routerOptions: { maxParamLength: 100 } },
  ],
])('a Fastify instance with ignoreDuplicateSlashes (%s)', (_name, options) => {
  it('offers the methods of //fixture//widgets as its router serves it', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [FixtureAppModule],
    }).compile();
    const app = moduleRef.createNestApplication(
      new FastifyAdapter(fastify(options) as never),
      { logger: false, bodyParser: false },
    );
    useStrictBodyParsing(app, { limit: 100 * 1024 });
    await app.listen(0, '127.0.0.1');
    const { port } = (
      app.getHttpServer() as { address(): { port: number } }
    ).address();
    try {
      const path = `http://127.0.0.1:${port}//fixture//widgets`;
      expect((await fetch(path)).status).toBe(200);
      const put = await fetch(path, { method: 'PUT' });
      expect(put.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
      await expectProblem(put, 405);
    } finally {
      await app.close();
    }
  });
});
