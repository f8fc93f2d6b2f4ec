import type { ResourceNames } from '../names';

/**
 * The files of a generated resource, as functions of its names: typed
 * TypeScript rather than template files, so nothing has to be copied at build
 * time and a change to the generated code is reviewed like any other code.
 * The output is written the way Prettier (single quotes, trailing commas)
 * would write it.
 */
export interface ResourceTemplateContext {
  readonly names: ResourceNames;
  /** `.js` for ESM projects (relative imports name the emitted file), else empty. */
  readonly ext: string;
  /** The project uses @nestjs/swagger: document bodies, HAL responses and problems. */
  readonly openapi: boolean;
  /** The project runs on Fastify only: the HTTP spec starts a Fastify app. */
  readonly fastify: boolean;
}

/** The lines that are kept: `false` marks a line only some projects get. */
const lines = (...all: (string | false)[]) =>
  all.filter((line): line is string => line !== false).join('\n');

const sentence = (text: string) => text[0].toUpperCase() + text.slice(1);

/** Names the generated files import; an entity may not share one (e.g. `posts` → `Post`). */
const IMPORTED_NAMES = new Set([
  'Body',
  'Controller',
  'Delete',
  'Get',
  'HttpCode',
  'Injectable',
  'Module',
  'Param',
  'ParseUUIDPipe',
  'Patch',
  'Post',
  'Query',
  'Test',
  'Type',
  'IsInt',
  'IsNotEmpty',
  'IsOptional',
  'IsString',
  'Max',
  'MaxLength',
  'Min',
  'HalContext',
  'HalEmbedded',
  'HalLink',
  'HalPage',
  'HalProblemModule',
  'HalResource',
  'AuthPrincipal',
  'ProblemException',
  'Scopes',
  'ApiTags',
  'ApiHalResponse',
  'ApiProblemResponses',
  'ApiProperty',
  'ApiPropertyOptional',
  'HalBody',
  'ProblemBody',
  'Response',
]);

/** The entity's type name: the singular, or `PostEntity` where the singular is taken. */
export const entityName = (n: ResourceNames) =>
  IMPORTED_NAMES.has(n.singularClassName)
    ? `${n.singularClassName}Entity`
    : n.singularClassName;

/** `PURCHASE_ORDERS_WRITE_SCOPE`: the constant holding the write scope. */
const writeScopeName = (n: ResourceNames) =>
  `${n.fileName.toUpperCase().replace(/-/g, '_')}_WRITE_SCOPE`;

export function scopesFile({ names: n }: ResourceTemplateContext): string {
  return `/** The scope a token needs to change ${n.words} (checked when the module's auth is on). */
export const ${writeScopeName(n)} = '${n.fileName}:write';
`;
}

export function moduleFile({ names: n, ext }: ResourceTemplateContext): string {
  return `import { Module } from '@nestjs/common';
import { ${n.className}Controller } from './${n.fileName}.controller${ext}';
import { ${n.className}Service } from './${n.fileName}.service${ext}';

@Module({
  controllers: [${n.className}Controller],
  providers: [${n.className}Service],
  exports: [${n.className}Service],
})
export class ${n.className}Module {}
`;
}

export function entityFile({ names: n }: ResourceTemplateContext): string {
  return `/** ${sentence(n.singularWords)} as the service keeps it and the API shows it. */
export interface ${entityName(n)} {
  id: string;
  name: string;
  description?: string;
  createdAt: string;
  updatedAt: string;
}
`;
}

/** The optional `description` of both DTOs. */
const descriptionProperty = (openapi: boolean) => [
  openapi && '  @ApiPropertyOptional({ maxLength: 1000 })',
  '  @IsOptional()',
  '  @IsString()',
  '  @MaxLength(1000)',
  '  description?: string;',
];

export function createDtoFile({
  names: n,
  openapi,
}: ResourceTemplateContext): string {
  return `${lines(
    openapi &&
      "import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';",
    "import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';",
    '',
    `/** The body of POST /${n.fileName}. Anything else in it is a 400 problem. */`,
    `export class Create${n.singularClassName}Dto {`,
    openapi && '  @ApiProperty({ maxLength: 100 })',
    '  @IsString()',
    '  @IsNotEmpty()',
    '  @MaxLength(100)',
    '  name!: string;',
    '',
    ...descriptionProperty(openapi),
    '}',
  )}
`;
}

export function updateDtoFile({
  names: n,
  openapi,
}: ResourceTemplateContext): string {
  return `${lines(
    openapi && "import { ApiPropertyOptional } from '@nestjs/swagger';",
    "import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';",
    '',
    `/** The body of PATCH /${n.fileName}/:id: the fields to change. */`,
    `export class Update${n.singularClassName}Dto {`,
    openapi && '  @ApiPropertyOptional({ maxLength: 100 })',
    '  @IsOptional()',
    '  @IsString()',
    '  @IsNotEmpty()',
    '  @MaxLength(100)',
    '  name?: string;',
    '',
    ...descriptionProperty(openapi),
    '}',
  )}
`;
}

export function listQueryFile({
  names: n,
  openapi,
}: ResourceTemplateContext): string {
  return `${lines(
    openapi && "import { ApiPropertyOptional } from '@nestjs/swagger';",
    "import { Transform } from 'class-transformer';",
    "import { IsInt, IsOptional, Max, Min } from 'class-validator';",
    '',
    '/** A plain decimal becomes a number; anything else (`0x2`, `1e1`) stays as sent and fails @IsInt(). */',
    'const decimal = Transform(({ value }: { value: unknown }) =>',
    "  typeof value === 'string' && /^[0-9]{1,16}$/.test(value) ? Number(value) : value,",
    ');',
    '',
    `/** The query of GET /${n.fileName}: \`?page=2&size=20\`, pages numbered from 1. */`,
    `export class List${n.className}Query {`,
    openapi && '  @ApiPropertyOptional({ minimum: 1, default: 1 })',
    '  @IsOptional()',
    '  @decimal',
    '  @IsInt()',
    '  @Min(1)',
    '  @Max(Number.MAX_SAFE_INTEGER)',
    '  page = 1;',
    '',
    openapi &&
      '  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })',
    '  @IsOptional()',
    '  @decimal',
    '  @IsInt()',
    '  @Min(1)',
    '  @Max(100)',
    '  size = 20;',
    '}',
  )}
`;
}

export function problemsFile({ names: n }: ResourceTemplateContext): string {
  return `import { defineProblemType } from 'nestjs-hal-problem';

export const ${n.singularClassName}NotFound = defineProblemType({
  slug: '${n.singularFileName}-not-found',
  title: '${sentence(n.singularWords)} not found',
  status: 404,
  description:
    'No ${n.singularWords} has this id. It may never have existed or may have been deleted.',
});

export const ${n.singularClassName}NameTaken = defineProblemType({
  slug: '${n.singularFileName}-name-taken',
  title: '${sentence(n.singularWords)} name already taken',
  status: 409,
  description:
    '${sentence(n.singularWords)} names are unique. Choose another name, or change the ${n.singularWords} that has it.',
});
`;
}

export function serviceFile({
  names: n,
  ext,
}: ResourceTemplateContext): string {
  const item = n.singularClassName;
  const entity = entityName(n);
  return `import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ProblemException } from 'nestjs-hal-problem';
import type { Create${item}Dto } from './dto/create-${n.singularFileName}.dto${ext}';
import type { Update${item}Dto } from './dto/update-${n.singularFileName}.dto${ext}';
import type { ${entity} } from './entities/${n.singularFileName}.entity${ext}';
import { ${item}NameTaken, ${item}NotFound } from './${n.fileName}.problems${ext}';

/** ${sentence(n.words)}, kept in memory: replace the map with your repository. */
@Injectable()
export class ${n.className}Service {
  private readonly ${n.propertyName} = new Map<string, ${entity}>();

  /** One page (numbered from 1), oldest first, and how many there are in all. */
  list(page: number, size: number): { items: ${entity}[]; total: number } {
    const all = [...this.${n.propertyName}.values()];
    return {
      items: all.slice((page - 1) * size, page * size),
      total: all.length,
    };
  }

  get(id: string): ${entity} {
    const found = this.${n.propertyName}.get(id);
    if (!found) {
      throw new ProblemException(${item}NotFound, {
        detail: \`There is no ${n.singularWords} \${id}.\`,
      });
    }
    return found;
  }

  create(input: Create${item}Dto): ${entity} {
    this.assertNameFree(input.name);
    const now = new Date().toISOString();
    const created: ${entity} = {
      id: randomUUID(),
      name: input.name,
      description: input.description,
      createdAt: now,
      updatedAt: now,
    };
    this.${n.propertyName}.set(created.id, created);
    return created;
  }

  update(id: string, changes: Update${item}Dto): ${entity} {
    const current = this.get(id);
    if (changes.name !== undefined && changes.name !== current.name) {
      this.assertNameFree(changes.name);
    }
    const updated: ${entity} = {
      ...current,
      name: changes.name ?? current.name,
      description: changes.description ?? current.description,
      updatedAt: new Date().toISOString(),
    };
    this.${n.propertyName}.set(id, updated);
    return updated;
  }

  remove(id: string): void {
    this.get(id);
    this.${n.propertyName}.delete(id);
  }

  private assertNameFree(name: string): void {
    for (const existing of this.${n.propertyName}.values()) {
      if (existing.name === name) {
        throw new ProblemException(${item}NameTaken, {
          detail: \`${sentence(n.singularWords)} \${existing.id} is already named "\${name}".\`,
        });
      }
    }
  }
}
`;
}

export function resourceFile({
  names: n,
  ext,
  openapi,
}: ResourceTemplateContext): string {
  const item = n.singularClassName;
  const entity = entityName(n);
  const scope = writeScopeName(n);
  const documented = `implements ${entity} {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ maxLength: 100 })
  name!: string;

  @ApiPropertyOptional({ maxLength: 1000 })
  description?: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}`;
  return `${openapi ? "import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';\n" : ''}import {
  type AuthPrincipal,
  type HalContext,
  HalLink,
} from 'nestjs-hal-problem';
import type { ${entity} } from './entities/${n.singularFileName}.entity${ext}';
import { ${n.className}Controller } from './${n.fileName}.controller${ext}';
import { ${scope} } from './${n.fileName}.scopes${ext}';

/**
 * Changes are offered to clients that may make them: tokens with the write
 * scope, or every client when no bearer principal carries scopes (auth off,
 * or another authentication in place).
 */
const mayChange = (_${n.propertyName[0]}: ${entity}, { principal }: HalContext): boolean => {
  const scopes = (principal as Partial<AuthPrincipal> | undefined)?.scopes;
  return !Array.isArray(scopes) || scopes.includes(${scope});
};

/**
 * The links every ${n.singularWords} carries, wherever it is returned or embedded${openapi ? ',\n * and its documented shape' : ''}.
 * This file and the controller import each other, so each names the other
 * through a function, resolved at bootstrap${openapi ? ' (`@ApiHalResponse` needs the class itself: let the\n * module import the controller before anything imports this file)' : ''}.
 */
@HalLink('self', () => [${n.className}Controller, 'findOne'])
@HalLink('collection', () => [${n.className}Controller, 'findAll'])
@HalLink('edit', () => [${n.className}Controller, 'update'], {
  when: mayChange,
  title: 'Change or delete this ${n.singularWords}',
})
export class ${item}Resource ${openapi ? documented : '{}'}
`;
}

export function controllerFile({
  names: n,
  ext,
  openapi,
}: ResourceTemplateContext): string {
  const item = n.singularClassName;
  const entity = entityName(n);
  const scope = writeScopeName(n);
  return `import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
${openapi ? "import { ApiTags } from '@nestjs/swagger';\n" : ''}import {
${openapi ? '  ApiHalResponse,\n  ApiProblemResponses,\n' : ''}  HalEmbedded,
  HalPage,
  HalResource,
  Scopes,
} from 'nestjs-hal-problem';
import { Create${item}Dto } from './dto/create-${n.singularFileName}.dto${ext}';
import { List${n.className}Query } from './dto/list-${n.fileName}.query${ext}';
import { Update${item}Dto } from './dto/update-${n.singularFileName}.dto${ext}';
import type { ${entity} } from './entities/${n.singularFileName}.entity${ext}';
import { ${item}Resource } from './${n.singularFileName}.resource${ext}';
import { ${scope} } from './${n.fileName}.scopes${ext}';
import { ${n.className}Service } from './${n.fileName}.service${ext}';
${openapi ? `import { ${item}NameTaken, ${item}NotFound } from './${n.fileName}.problems${ext}';\n` : ''}
/**
 * ${sentence(n.words)} over HTTP: HAL bodies (application/hal+json) with their links,
 * every error an RFC 9457 problem (application/problem+json).
 */
${openapi ? `@ApiTags('${n.fileName}')\n` : ''}@Controller('${n.fileName}')
export class ${n.className}Controller {
  constructor(private readonly ${n.propertyName}: ${n.className}Service) {}

  /** A page: \`_embedded.${n.propertyName}\`, a \`page\` block and first/prev/next/last links. */
  @Get()
  @HalEmbedded('${n.propertyName}', { type: () => ${item}Resource })
${openapi ? `  @ApiHalResponse(${item}Resource, { page: true })\n` : ''}  findAll(@Query() query: List${n.className}Query): HalPage<${entity}> {
    const { items, total } = this.${n.propertyName}.list(query.page, query.size);
    return new HalPage(items, { page: query.page, size: query.size, total });
  }

  @Get(':id')
  @HalResource(() => ${item}Resource)
${openapi ? `  @ApiHalResponse(${item}Resource)\n  @ApiProblemResponses(${item}NotFound)\n` : ''}  findOne(@Param('id', ParseUUIDPipe) id: string): ${entity} {
    return this.${n.propertyName}.get(id);
  }

  /** 201, with the new ${n.singularWords}'s self link as Location. */
  @Post()
  @Scopes(${scope})
  @HalResource(() => ${item}Resource)
${openapi ? `  @ApiHalResponse(${item}Resource)\n  @ApiProblemResponses(${item}NameTaken)\n` : ''}  create(@Body() body: Create${item}Dto): ${entity} {
    return this.${n.propertyName}.create(body);
  }

  @Patch(':id')
  @Scopes(${scope})
  @HalResource(() => ${item}Resource)
${openapi ? `  @ApiHalResponse(${item}Resource)\n  @ApiProblemResponses(${item}NotFound, ${item}NameTaken)\n` : ''}  update(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: Update${item}Dto,
  ): ${entity} {
    return this.${n.propertyName}.update(id, body);
  }

  /** 204, no body. */
  @Delete(':id')
  @HttpCode(204)
  @Scopes(${scope})
${openapi ? `  @ApiProblemResponses(${item}NotFound)\n` : ''}  remove(@Param('id', ParseUUIDPipe) id: string): void {
    this.${n.propertyName}.remove(id);
  }
}
`;
}

export function serviceSpecFile({
  names: n,
  ext,
}: ResourceTemplateContext): string {
  const item = n.singularClassName;
  return `import { ProblemException } from 'nestjs-hal-problem';
import { ${n.className}Service } from './${n.fileName}.service${ext}';

/** The status of the problem an action throws, if it throws one. */
function problemStatus(action: () => unknown): number | undefined {
  try {
    action();
  } catch (error) {
    if (error instanceof ProblemException) return error.getStatus();
    throw error;
  }
  return undefined;
}

describe('${n.className}Service', () => {
  let ${n.propertyName}: ${n.className}Service;

  beforeEach(() => {
    ${n.propertyName} = new ${n.className}Service();
  });

  it('creates a ${n.singularWords} and reads it back', () => {
    const created = ${n.propertyName}.create({ name: 'first', description: 'one' });
    expect(${n.propertyName}.get(created.id)).toEqual(created);
  });

  it('lists one page at a time, with the total', () => {
    for (const name of ['a', 'b', 'c']) ${n.propertyName}.create({ name });
    const { items, total } = ${n.propertyName}.list(2, 2);
    expect(items.map((${item[0].toLowerCase()}) => ${item[0].toLowerCase()}.name)).toEqual(['c']);
    expect(total).toBe(3);
  });

  it('changes only the fields given', () => {
    const created = ${n.propertyName}.create({ name: 'before', description: 'kept' });
    const updated = ${n.propertyName}.update(created.id, { name: 'after' });
    expect(updated).toMatchObject({ name: 'after', description: 'kept' });
  });

  it('answers an unknown id with a 404 problem', () => {
    expect(problemStatus(() => ${n.propertyName}.get('unknown'))).toBe(404);
    expect(problemStatus(() => ${n.propertyName}.remove('unknown'))).toBe(404);
  });

  it('answers a name already taken with a 409 problem', () => {
    ${n.propertyName}.create({ name: 'taken' });
    const other = ${n.propertyName}.create({ name: 'other' });
    expect(problemStatus(() => ${n.propertyName}.create({ name: 'taken' }))).toBe(409);
    expect(problemStatus(() => ${n.propertyName}.update(other.id, { name: 'taken' }))).toBe(409);
  });

  it('removes a ${n.singularWords}', () => {
    const created = ${n.propertyName}.create({ name: 'gone' });
    ${n.propertyName}.remove(created.id);
    expect(problemStatus(() => ${n.propertyName}.get(created.id))).toBe(404);
  });
});
`;
}

export function controllerSpecFile({
  names: n,
  ext,
  fastify,
}: ResourceTemplateContext): string {
  return `import type { INestApplication } from '@nestjs/common';
${fastify ? "import { FastifyAdapter } from '@nestjs/platform-fastify';\n" : ''}import { Test } from '@nestjs/testing';
import { HalProblemModule } from 'nestjs-hal-problem';
import { ${n.className}Module } from './${n.fileName}.module${ext}';

interface HalBody {
  [member: string]: unknown;
  _links: Record<string, { href: string }>;
  _embedded?: Record<string, HalBody[]>;
}

interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: { detail: string; pointer?: string }[];
}

/** Over real HTTP: the contract is what a client sees. */
describe('${n.className}Controller over HTTP', () => {
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        HalProblemModule.forRoot({ hal: { relations: ['${n.propertyName}'] } }),
        ${n.className}Module,
      ],
    }).compile();
    app = moduleRef.createNestApplication(${fastify ? 'new FastifyAdapter(), ' : ''}{ logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });

  afterAll(async () => {
    await app.close();
  });

  const send = (method: string, path: string, body?: unknown) =>
    fetch(new URL(path, base), {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  async function problem(response: Response, status: number): Promise<ProblemBody> {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\\/problem\\+json/);
    const body = (await response.json()) as ProblemBody;
    expect(body).toMatchObject({ status, type: expect.any(String), title: expect.any(String) });
    return body;
  }

  it('creates: 201, Location and a HAL body with its links', async () => {
    const response = await send('POST', '/${n.fileName}', { name: 'created' });
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toMatch(/^application\\/hal\\+json/);
    const body = (await response.json()) as HalBody;
    expect(body).toMatchObject({ name: 'created' });
    expect(body._links.self.href).toBe(\`/${n.fileName}/\${String(body.id)}\`);
    expect(body._links.collection.href).toBe('/${n.fileName}');
    expect(body._links.edit.href).toBe(body._links.self.href);
    expect(new URL(response.headers.get('location') ?? '', base).pathname).toBe(
      body._links.self.href,
    );
  });

  it('reads, changes and deletes (204, no body), then answers 404', async () => {
    const created = (await (await send('POST', '/${n.fileName}', { name: 'to change' })).json()) as HalBody;
    const self = created._links.self.href;
    const read = await send('GET', self);
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual(created);
    const changed = await send('PATCH', self, { description: 'changed' });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({ name: 'to change', description: 'changed' });
    const deleted = await send('DELETE', self);
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    const gone = await problem(await send('GET', self), 404);
    expect(gone.detail).toContain(String(created.id));
  });

  it('lists a HAL page with its items and paging links', async () => {
    for (const name of ['page a', 'page b', 'page c']) {
      expect((await send('POST', '/${n.fileName}', { name })).status).toBe(201);
    }
    const response = await send('GET', '/${n.fileName}?page=1&size=2');
    expect(response.status).toBe(200);
    const body = (await response.json()) as HalBody;
    const items = body._embedded?.${n.propertyName} ?? [];
    expect(items).toHaveLength(2);
    expect(items[0]._links.self.href).toMatch(/^\\/${n.fileName}\\//);
    expect(body._links.next.href).toContain('page=2');
  });

  it('answers an invalid body with a 400 problem listing each error', async () => {
    const body = await problem(await send('POST', '/${n.fileName}', { name: '', color: 'red' }), 400);
    const pointers = (body.errors ?? []).map((error) => error.pointer);
    expect(pointers).toEqual(expect.arrayContaining(['#/name', '#/color']));
  });

  it('answers a name already taken with a 409 problem', async () => {
    expect((await send('POST', '/${n.fileName}', { name: 'twice' })).status).toBe(201);
    await problem(await send('POST', '/${n.fileName}', { name: 'twice' }), 409);
  });

  it('answers an id that is not a UUID with a 400 problem', async () => {
    await problem(await send('GET', '/${n.fileName}/not-a-uuid'), 400);
  });
});
`;
}
