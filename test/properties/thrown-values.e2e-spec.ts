import {
  BadRequestException,
  Controller,
  HttpException,
  Module,
  Param,
  Post,
} from '@nestjs/common';
import fc from 'fast-check';
import { HalProblemModule, ProblemException } from 'nestjs-hal-problem';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from '../support/adapters';
import { validateProblem } from '../support/problem-schema';
import { rawRequest } from '../support/raw-http';

/** Values the next request's handler throws, by slot. */
const toThrow = new Map<string, unknown>();
const MARKER = 'SECRET-MARKER-7f3a';

@Controller('throw')
class ThrowingController {
  @Post(':slot')
  throwIt(@Param('slot') slot: string): never {
    throw toThrow.get(slot);
  }
}

@Module({
  imports: [HalProblemModule.forRoot({ validation: false })],
  controllers: [ThrowingController],
})
class ThrowingModule {}

const cyclic = fc.constant(null).map(() => {
  const value: Record<string, unknown> = { message: MARKER };
  value.self = value;
  return value;
});
const throwingToJson = fc.constant(null).map(() => ({
  toJSON() {
    throw new Error(MARKER);
  },
}));
const httpResponse = fc.oneof(
  fc.string(),
  fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), {
    maxKeys: 6,
  }),
  cyclic,
  throwingToJson,
);
const thrown = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.string().map((message) => new Error(`${MARKER} ${message}`)),
  fc
    .tuple(httpResponse, fc.integer({ min: 100, max: 700 }))
    .map(([response, status]) => new HttpException(response as never, status)),
  fc.string().map((detail) => new BadRequestException(detail)),
  fc
    .integer({ min: 400, max: 599 })
    .map(
      (status) => new ProblemException(status, { extensions: { x: MARKER } }),
    ),
  cyclic,
  throwingToJson,
  fc.constantFrom(null, undefined, 0, '', NaN, Symbol('s'), () => MARKER),
);

describe.each(ADAPTERS)(
  'any thrown value becomes a valid problem on %s',
  (adapter) => {
    let running: RunningApp;
    beforeAll(async () => {
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [ThrowingModule] }),
      );
    });
    afterAll(() => running.close());

    it('answers a well-formed problem, 4xx/5xx, and never leaks on 5xx', async () => {
      let slot = 0;
      await fc.assert(
        fc.asyncProperty(thrown, async (value) => {
          const id = String(slot++);
          toThrow.set(id, value);
          // node:http rather than fetch: undici rejects any 407 response outright.
          const response = await rawRequest(
            running.baseUrl,
            `/throw/${id}`,
            {},
            'POST',
          );
          toThrow.delete(id);
          const text = response.body;
          expect(response.status).toBeGreaterThanOrEqual(400);
          expect(response.status).toBeLessThanOrEqual(599);
          expect(response.headers['content-type']).toMatch(
            /^application\/problem\+json/,
          );
          const body = JSON.parse(text) as unknown;
          expect(validateProblem(body) ? [] : validateProblem.errors).toEqual(
            [],
          );
          if (response.status >= 500 && !(value instanceof ProblemException)) {
            expect(text).not.toContain(MARKER);
            expect(text).not.toMatch(/\bat \S+ \(|\.js:\d+/);
          }
        }),
        { numRuns: 150 },
      );
      // Still serving after all that.
      expect((await fetch(`${running.baseUrl}/nowhere`)).status).toBe(404);
    });
  },
);
