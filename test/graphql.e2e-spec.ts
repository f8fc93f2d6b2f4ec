import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  Module,
  NotFoundException,
  type Provider,
  UnauthorizedException,
  UseGuards,
  ValidationPipe,
} from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import {
  Args,
  Field,
  GqlExecutionContext,
  GraphQLModule,
  InputType,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
} from '@nestjs/graphql';
import { ThrottlerModule } from '@nestjs/throttler';
import { IsString, Min, MinLength } from 'class-validator';
import { HalProblemModule, Principal, Scopes } from 'nestjs-hal-problem';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { expectProblem } from './support/problem-assertions';
import { AUTH_OPTIONS } from './fixtures/auth-fixture.module';
import { signToken } from './support/tokens';

/**
 * GraphQL beside REST in one app, over real HTTP: Apollo on Express,
 * Mercurius on Fastify, with the module and with Nest alone (its own
 * ValidationPipe). /graphql belongs to the GraphQL server: answered as
 * without the module, except a failed validation, which carries its
 * entries. The module neither authenticates nor rate-limits it (README,
 * "GraphQL in the same app").
 */

/** Two requests a minute: /graphql counted would soon be refused. */
const LIMIT = 2;

@ObjectType()
class Widget {
  @Field() name!: string;
  @Field(() => Int) quantity!: number;
}

@InputType()
class WidgetInput {
  @Field() @IsString() @MinLength(2) name!: string;
  @Field(() => Int) @Min(1) quantity!: number;
}

/** The app's own guard, as docs/auth-and-throttling.md shows: the request from the GraphQL context. */
class BearerRequired implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const graphql = GqlExecutionContext.create(context).getContext<{
      req?: { headers: Record<string, unknown> };
      reply?: { request: { headers: Record<string, unknown> } };
    }>();
    const request = graphql.req ?? graphql.reply?.request;
    if (!request?.headers.authorization)
      throw new UnauthorizedException('A token is needed here.');
    return true;
  }
}

@Resolver(() => Widget)
class WidgetResolver {
  @Query(() => Widget)
  widget(): Widget {
    return { name: 'bolt', quantity: 3 };
  }

  @Query(() => String)
  missing(): string {
    throw new NotFoundException('There is no widget 7.');
  }

  @Query(() => String)
  scoped(@Principal() principal: unknown): string {
    return principal === undefined ? 'none' : 'set';
  }

  @Query(() => String)
  @Scopes('widgets:write')
  write(): string {
    return 'ran';
  }

  @Query(() => String)
  @UseGuards(BearerRequired)
  guarded(): string {
    return 'ran';
  }

  @Mutation(() => Widget)
  addWidget(@Args('input') input: WidgetInput): Widget {
    return { ...input, name: `${input.name}:${input instanceof WidgetInput}` };
  }
}

@Controller('rest')
class RestController {
  @Get()
  get(): { ok: true } {
    return { ok: true };
  }
}

type Setup = 'module' | 'none';

function graphqlModule(adapter: (typeof ADAPTERS)[number]) {
  return adapter === 'express'
    ? GraphQLModule.forRoot<ApolloDriverConfig>({
        driver: ApolloDriver,
        autoSchemaFile: true,
      })
    : GraphQLModule.forRoot<MercuriusDriverConfig>({
        driver: MercuriusDriver,
        autoSchemaFile: true,
      });
}

interface GraphqlResult {
  status: number;
  contentType: string | null;
  body: {
    data?: Record<string, unknown> | null;
    errors?: {
      message: string;
      extensions?: { originalError?: { errors?: unknown } };
    }[];
  };
}

describe.each(
  ADAPTERS.flatMap((adapter) =>
    (['module', 'none'] as const).map((setup) => [adapter, setup] as const),
  ),
)('GraphQL beside REST on %s (%s)', (adapter, setup: Setup) => {
  let running: RunningApp;

  async function graphql(
    query: string,
    headers: Record<string, string> = {},
  ): Promise<GraphqlResult> {
    const response = await fetch(`${running.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
    });
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      body: (await response.json()) as GraphqlResult['body'],
    };
  }

  beforeAll(async () => {
    const providers: Provider[] = [WidgetResolver];
    if (setup === 'none')
      providers.push({
        provide: APP_PIPE,
        useValue: new ValidationPipe({
          whitelist: true,
          forbidNonWhitelisted: true,
          transform: true,
        }),
      });
    @Module({
      imports: [
        graphqlModule(adapter),
        ...(setup === 'module'
          ? [
              ThrottlerModule.forRoot({
                throttlers: [{ ttl: 60_000, limit: LIMIT }],
              }),
              HalProblemModule.forRoot(AUTH_OPTIONS),
            ]
          : []),
      ],
      controllers: [RestController],
      providers,
    })
    class GraphqlAppModule {}
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [GraphqlAppModule] }),
    );
  });
  afterAll(() => running.close());

  it('answers POST and GET queries as GraphQL JSON, never HAL or a problem', async () => {
    const posted = await graphql('{ widget { name quantity } }');
    expect(posted.status).toBe(200);
    expect(posted.contentType).toMatch(/^application\/json/);
    expect(posted.body).toEqual({
      data: { widget: { name: 'bolt', quantity: 3 } },
    });
    const query = encodeURIComponent('{ widget { name } }');
    // Apollo's CSRF prevention takes a GET query with this header only.
    const got = await fetch(`${running.baseUrl}/graphql?query=${query}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual({ data: { widget: { name: 'bolt' } } });
  });

  it("sends a resolver's HttpException as the GraphQL server does", async () => {
    const { status, body } = await graphql('{ missing }');
    expect(status).toBe(200);
    expect(body.data).toBeNull();
    expect(body.errors).toHaveLength(1);
    expect(body.errors?.[0].message).toBe('There is no widget 7.');
  });

  it('runs the validation pipe on @Args and sends its failure as an error', async () => {
    const valid = await graphql(
      'mutation { addWidget(input: { name: "nut", quantity: 2 }) { name } }',
    );
    expect(valid.body).toEqual({ data: { addWidget: { name: 'nut:true' } } });
    const { status, body } = await graphql(
      'mutation { addWidget(input: { name: "n", quantity: 0 }) { name } }',
    );
    expect(status).toBe(200);
    expect(body.data).toBeNull();
    expect(body.errors).toHaveLength(1);
    const [error] = body.errors!;
    // Mercurius read the problem's `errors` as GraphQL errors and answered
    // `"message" is required!`; Apollo's driver dropped the entries.
    expect(error.message).toBe(
      setup === 'module'
        ? 'Request failed validation'
        : 'Bad Request Exception',
    );
    if (setup === 'module' && adapter === 'express')
      expect(error.extensions?.originalError?.errors).toEqual([
        expect.objectContaining({
          title: 'too_small',
          pointer: '#/input/name',
        }),
        expect.objectContaining({
          title: 'too_small',
          pointer: '#/input/quantity',
        }),
      ]);
  });

  it('neither authenticates resolvers nor counts /graphql against a rate limit', async () => {
    // Past the limit, without a token, with one: no 401, 403 or 429, and
    // no principal (the module's guards stand aside outside HTTP).
    for (let i = 0; i < LIMIT + 2; i++) {
      const { status, body } = await graphql('{ scoped write }', {
        authorization: `Bearer ${signToken()}`,
      });
      expect(status).toBe(200);
      expect(body).toEqual({ data: { scoped: 'none', write: 'ran' } });
    }
    expect((await graphql('{ write }')).body).toEqual({
      data: { write: 'ran' },
    });
  });

  it("lets an app's own guard protect a resolver", async () => {
    const refused = await graphql('{ guarded }');
    expect(refused.body.errors?.[0].message).toBe('A token is needed here.');
    const allowed = await graphql('{ guarded }', { authorization: 'Bearer x' });
    expect(allowed.body).toEqual({ data: { guarded: 'ran' } });
  });

  it('keeps the REST routes beside it under the contract', async () => {
    const response = await fetch(`${running.baseUrl}/rest`);
    if (setup === 'module') await expectProblem(response, 401);
    else expect(response.status).toBe(200);
  });
});
