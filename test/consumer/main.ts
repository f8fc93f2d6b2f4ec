// A consumer app outside the monorepo: it imports the packed library by its
// npm name and checks the contract over real HTTP, then exits 0 or 1.
import 'reflect-metadata';
import {
  Body,
  Controller,
  Get,
  Module,
  NotFoundException,
  Param,
  Post,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IsInt, IsString, Min } from 'class-validator';
import { HalLink, HalProblemModule, HalResource } from 'nestjs-hal-problem';

class CreateWidget {
  @IsString() name!: string;
  @IsInt() @Min(1) size!: number;
}

@HalLink('self', () => [WidgetsController, 'findOne'])
@HalLink('collection', () => [WidgetsController, 'create'])
class WidgetResource {}

@Controller('widgets')
class WidgetsController {
  @Get(':id')
  @HalResource(WidgetResource)
  findOne(@Param('id') id: string): { id: string; name: string } {
    if (id !== '1') throw new NotFoundException(`No widget ${id}`);
    return { id, name: 'one' };
  }

  @Post(':id/touch')
  touch(): void {}

  @Post()
  @HalResource(WidgetResource)
  create(@Body() body: CreateWidget): { id: string; name: string } {
    return { id: '2', name: body.name };
  }
}

@Module({
  imports: [HalProblemModule.forRoot()],
  controllers: [WidgetsController],
})
class AppModule {}

function check(name: string, condition: boolean, detail: unknown): boolean {
  process.stdout.write(
    `${condition ? 'ok  ' : 'FAIL'} ${name}${condition ? '' : `: ${JSON.stringify(detail)}`}\n`,
  );
  return condition;
}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  const base = await app.getUrl();
  const results: boolean[] = [];
  try {
    const hal = await fetch(`${base}/widgets/1`);
    const halBody = (await hal.json()) as Record<string, any>;
    results.push(
      check(
        'HAL 200',
        hal.status === 200 &&
          /^application\/hal\+json/.test(
            hal.headers.get('content-type') ?? '',
          ) &&
          halBody._links?.self?.href === '/widgets/1',
        { status: hal.status, halBody },
      ),
    );
    const missing = await fetch(`${base}/widgets/9`);
    const missingBody = (await missing.json()) as Record<string, any>;
    results.push(
      check(
        '404 problem',
        missing.status === 404 &&
          /^application\/problem\+json/.test(
            missing.headers.get('content-type') ?? '',
          ) &&
          missingBody.title === 'Not Found' &&
          missingBody.detail === 'No widget 9',
        missingBody,
      ),
    );
    const invalid = await fetch(`${base}/widgets`, {
      method: 'POST',
      body: JSON.stringify({ size: 0 }),
      headers: { 'content-type': 'application/json' },
    });
    const invalidBody = (await invalid.json()) as Record<string, any>;
    results.push(
      check(
        '400 validation problem',
        invalid.status === 400 &&
          invalidBody.detail === 'Request failed validation' &&
          Array.isArray(invalidBody.errors) &&
          invalidBody.errors.some(
            (e: any) => e.title === 'invalid_type' && e.pointer === '#/name',
          ),
        invalidBody,
      ),
    );
    const touched = await fetch(`${base}/widgets/1/touch`, { method: 'POST' });
    results.push(
      check(
        '204 for a handler that returns nothing',
        touched.status === 204 && (await touched.text()) === '',
        touched.status,
      ),
    );
    const malformed = await fetch(`${base}/widgets`, {
      method: 'POST',
      body: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    const malformedBody = (await malformed.json()) as Record<string, any>;
    results.push(
      check(
        '400 for malformed JSON, parser message not echoed',
        malformed.status === 400 &&
          malformedBody.detail ===
            'The request body is malformed and could not be parsed.',
        malformedBody,
      ),
    );
  } finally {
    await app.close();
  }
  process.exit(results.every(Boolean) ? 0 : 1);
}

main().catch((error: unknown) => {
  process.stderr.write(`consumer app failed: ${String(error)}\n`);
  process.exit(1);
});
