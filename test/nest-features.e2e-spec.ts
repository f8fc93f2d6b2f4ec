import {
  type ArgumentsHost,
  type ModuleMetadata,
  Body,
  Catch,
  Controller,
  type ExceptionFilter,
  Get,
  Module,
  Post,
} from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import { HalProblemModule, Idempotent } from 'nestjs-hal-problem';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { expectProblem } from './support/problem-assertions';

/** Nest features an app combines with the module, each in a throwaway app. */

class TeapotError extends Error {}

/** An app's own filter for one error, answering through the adapter as Nest's docs show. */
@Catch(TeapotError)
class TeapotFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}
  catch(error: TeapotError, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    httpAdapter.reply(
      host.switchToHttp().getResponse(),
      { teapot: error.message },
      418,
    );
  }
}

let brews = 0;

@Controller('kettle')
class KettleController {
  @Get('teapot')
  teapot(): never {
    throw new TeapotError('short and stout');
  }

  @Get('other')
  other(): never {
    throw new Error('not a teapot');
  }

  @Post()
  @Idempotent()
  brew(@Body() _body: unknown): never {
    brews++;
    throw new TeapotError('no tea left');
  }
}

/** The app's filter in a module imported before the module's own. */
@Module({ providers: [{ provide: APP_FILTER, useClass: TeapotFilter }] })
class TeapotFilterModule {}

const filterPlacements: [string, ModuleMetadata][] = [
  [
    'in the root module',
    {
      imports: [HalProblemModule.forRoot()],
      providers: [{ provide: APP_FILTER, useClass: TeapotFilter }],
    },
  ],
  [
    'in a module imported before it',
    { imports: [TeapotFilterModule, HalProblemModule.forRoot()] },
  ],
  [
    'in a module imported after it',
    { imports: [HalProblemModule.forRoot(), TeapotFilterModule] },
  ],
];

describe.each(ADAPTERS)("an app's own APP_FILTER on %s", (adapter) => {
  describe.each(filterPlacements)('%s', (where, metadata) => {
    let running: RunningApp;
    beforeAll(async () => {
      @Module({ ...metadata, controllers: [KettleController] })
      class FilteredAppModule {}
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [FilteredAppModule] }),
      );
    });
    afterAll(() => running.close());

    it('answers the errors it catches, wherever it is registered', async () => {
      const response = await fetch(`${running.baseUrl}/kettle/teapot`);
      expect(response.status).toBe(418);
      expect(await response.json()).toEqual({ teapot: 'short and stout' });
    });

    it('leaves every other error to the module', async () => {
      await expectProblem(await fetch(`${running.baseUrl}/kettle/other`), 500);
    });

    it('releases the Idempotency-Key of a request it answered', async () => {
      const send = () =>
        fetch(`${running.baseUrl}/kettle`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': `"kettle-${adapter}-${where}"`,
          },
          body: '{}',
        });
      const before = brews;
      expect((await send()).status).toBe(418);
      const retry = await send();
      expect(retry.status).toBe(418);
      expect(retry.headers.get('idempotent-replayed')).toBeNull();
      expect(brews).toBe(before + 2);
    });
  });
});

describe('HalProblemModule imported twice', () => {
  it.each(ADAPTERS)(
    'fails the start on %s, saying how to import it once',
    async (adapter) => {
      @Module({ imports: [HalProblemModule.forRoot()] })
      class OrdersFeatureModule {}
      @Module({ imports: [HalProblemModule.forRoot()] })
      class BillingFeatureModule {}
      @Module({
        imports: [OrdersFeatureModule, BillingFeatureModule],
        controllers: [KettleController],
      })
      class TwiceAppModule {}
      await expect(
        startTestingApp(
          adapter,
          Test.createTestingModule({ imports: [TwiceAppModule] }),
        ),
      ).rejects.toThrow(
        /HalProblemModule is imported 2 times .* Import it once, in the root module; .* forRoot\(\{ isGlobal: true \}\)/,
      );
    },
  );
});
