import { Body, Controller, Get, Module, Post, Query } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, ValidateNested } from 'class-validator';
import { HalProblemModule } from 'nestjs-hal-problem';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { expectProblem } from './support/problem-assertions';

class Part {
  @IsInt() qty!: number;
}

/** Keys a JSON Pointer must escape (RFC 6901 §3, §6), or tell apart. */
class OddKeys {
  @IsOptional() @IsInt() ''?: number;
  @IsOptional() @IsInt() 'a/b~1'?: number;
  @IsOptional() @IsInt() 'é %"#'?: number;
  @IsOptional() @IsInt() '0'?: number;
  @IsOptional()
  @ValidateNested({ each: true })
  @Type(() => Part)
  'l/st'?: Part[];
}

class Filter {
  @IsOptional() @IsInt() @Type(() => Number) 'a/b'?: number;
}

@Controller('pointers')
class PointersController {
  @Post('odd') odd(@Body() body: OddKeys) {
    return body;
  }
  @Post('part') part(@Body() body: Part) {
    return body;
  }
  @Get() search(@Query() query: Filter) {
    return query;
  }
}

@Module({
  imports: [HalProblemModule.forRoot({})],
  controllers: [PointersController],
})
class PointersModule {}

const type = (where: string, kind = 'string') =>
  `\`${where}\` is \`${kind}\`, but \`integer\` is expected.`;

/** The same bytes on both adapters: one expected `errors`, member order too. */
describe.each(ADAPTERS)('JSON Pointers into odd keys on %s', (adapter) => {
  let running: RunningApp;
  const errorsOf = async (path: string, json?: string) => {
    const response = await fetch(`${running.baseUrl}${path}`, {
      method: json === undefined ? 'GET' : 'POST',
      body: json,
      headers: json === undefined ? {} : { 'content-type': 'application/json' },
    });
    return JSON.stringify((await expectProblem(response, 400)).errors);
  };

  beforeAll(async () => {
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [PointersModule] }),
    );
  });
  afterAll(() => running.close());

  it('escapes ~ and /, percent-encodes the rest, and points at the key ""', async () => {
    const json = JSON.stringify({
      '': 'x',
      'a/b~1': 'x',
      'é %"#': 'x',
      '0': 'x',
      'l/st': [{ qty: 1 }, { qty: 'x', '~/': 1 }],
    });
    expect(await errorsOf('/pointers/odd', json)).toBe(
      JSON.stringify([
        { title: 'invalid_type', detail: type('body.0'), pointer: '#/0' },
        // `#` is the whole body: the key "" is `#/`.
        { title: 'invalid_type', detail: type('body.'), pointer: '#/' },
        {
          title: 'invalid_type',
          detail: type('body.a/b~1'),
          pointer: '#/a~1b~01',
        },
        {
          title: 'invalid_type',
          detail: type('body.é %"#'),
          pointer: '#/%C3%A9%20%25%22%23',
        },
        {
          title: 'unrecognized_key',
          detail: '`body.l/st.1.~/` is not allowed.',
          pointer: '#/l~1st/1/~0~1',
        },
        {
          title: 'invalid_type',
          detail: type('body.l/st.1.qty'),
          pointer: '#/l~1st/1/qty',
        },
      ]),
    );
  });

  it('points at unknown keys "" and a lone surrogate instead of failing with 500', async () => {
    // JSON's `\ud800` is a key UTF-8 cannot spell: U+FFFD in the pointer.
    expect(await errorsOf('/pointers/part', '{"qty":1,"":1,"\\ud800":2}')).toBe(
      JSON.stringify([
        {
          title: 'unrecognized_key',
          detail: '`body.` is not allowed.',
          pointer: '#/',
        },
        {
          title: 'unrecognized_key',
          detail: '`body.\ud800` is not allowed.',
          pointer: '#/%EF%BF%BD',
        },
      ]),
    );
  });

  it('names query parameters as sent, the empty one too', async () => {
    expect(await errorsOf('/pointers?a%2Fb=x&=1')).toBe(
      JSON.stringify([
        {
          title: 'unrecognized_key',
          detail: '`query.` is not allowed.',
          parameter: '',
        },
        {
          title: 'invalid_type',
          detail: '`query.a/b` is not a number, but `integer` is expected.',
          parameter: 'a/b',
        },
      ]),
    );
  });
});
