import { join } from 'node:path';
import { HostTree } from '@angular-devkit/schematics';
import {
  MONOREPO_NEST_CLI_JSON,
  SchematicRunner,
  snapshot,
  text,
} from '../../../../../test/support/schematic-runner';

const collection = join(__dirname, '..', 'collection.json');

/** The files of a Nest 12 `nest new` app that matter here (ESM, `.js` imports). */
function starterApp(appModule?: string): HostTree {
  const tree = new HostTree();
  tree.create(
    'package.json',
    JSON.stringify(
      {
        name: 'demo',
        type: 'module',
        dependencies: { '@nestjs/common': '^12.0.1' },
      },
      null,
      2,
    ),
  );
  tree.create(
    'nest-cli.json',
    JSON.stringify({ collection: '@nestjs/schematics', sourceRoot: 'src' }),
  );
  tree.create(
    'src/main.ts',
    `import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  await app.listen(process.env.PORT ?? 3000);
}
void bootstrap();
`,
  );
  tree.create(
    'src/app.module.ts',
    appModule ??
      `import { Module } from '@nestjs/common';
import { AppController } from './app.controller.js';
import { AppService } from './app.service.js';

@Module({
  imports: [],
  controllers: [AppController],
  providers: [AppService],
})
export class AppModule {}
`,
  );
  return tree;
}

describe('nest add nestjs-hal-problem (nest-add schematic)', () => {
  const runner = new SchematicRunner(collection);
  const logs = runner.logs;
  beforeEach(() => (logs.length = 0));

  const run = (tree: HostTree, options: Record<string, unknown> = {}) =>
    runner.run('nest-add', { sourceRoot: 'src', ...options }, tree);

  it('imports HalProblemModule.forRoot with the validation pipe into the root module', async () => {
    const tree = await run(starterApp());
    expect(text(tree, 'src/app.module.ts'))
      .toBe(`import { Module } from '@nestjs/common';
import { AppController } from './app.controller.js';
import { AppService } from './app.service.js';
import { HalProblemModule } from 'nestjs-hal-problem';

@Module({
  imports: [
    HalProblemModule.forRoot({
      // class-validator on bodies, queries and params: a 400 problem lists each error.
      validation: { whitelist: true, forbidNonWhitelisted: true, transform: true },
    }),
  ],
  controllers: [AppController],
  providers: [AppService],
})
export class AppModule {}
`);
    expect(logs.join('\n')).toContain(
      'src/app.module.ts now imports HalProblemModule.forRoot(',
    );
  });

  it('is idempotent: a second run changes nothing and says so', async () => {
    const once = await run(starterApp());
    const before = snapshot(once);
    logs.length = 0;
    const twice = await run(once as HostTree);
    expect(snapshot(twice)).toEqual(before);
    expect(logs.join('\n')).toContain(
      'already imports HalProblemModule; left unchanged',
    );
  });

  it('writes the chosen options, auth included', async () => {
    const tree = await run(starterApp(), {
      problemTypeBaseUri: 'https://api.example.com/problems/',
      instance: 'urn-uuid',
      isGlobal: true,
      auth: true,
      issuer: 'https://issuer.example.com/',
      audience: 'demo-api',
    });
    const module = text(tree, 'src/app.module.ts');
    expect(module).toContain(
      "problemTypeBaseUri: 'https://api.example.com/problems/',",
    );
    expect(module).toContain("instance: 'urn-uuid',");
    expect(module).toContain('isGlobal: true,');
    expect(module).toContain(`      auth: {
        realm: 'demo',
        algorithms: ['HS256'],
        // Startup fails without a key, rather than accepting unsigned tokens.
        secretOrKey: process.env.JWT_SECRET,
        issuer: 'https://issuer.example.com/',
        audience: 'demo-api',
      },`);
  });

  it('refuses auth without issuer and audience, and a relative problem type base', async () => {
    await expect(run(starterApp(), { auth: true })).rejects.toThrow(
      '--auth needs --issuer and --audience',
    );
    await expect(
      run(starterApp(), { problemTypeBaseUri: 'problems/' }),
    ).rejects.toThrow();
  });

  it('writes validation: false when asked', async () => {
    const tree = await run(starterApp(), { validation: false });
    expect(text(tree, 'src/app.module.ts')).toContain('validation: false,');
  });

  it('adds an imports array to a module that has none, and fills an empty @Module({})', async () => {
    const withoutImports = await run(
      starterApp(`import { Module } from '@nestjs/common';
import { AppController } from './app.controller.js';

@Module({
  controllers: [AppController],
})
export class AppModule {}
`),
    );
    expect(text(withoutImports, 'src/app.module.ts')).toContain(`@Module({
  imports: [
    HalProblemModule.forRoot({`);
    const empty = await run(
      starterApp(`import { Module } from '@nestjs/common';

@Module({})
export class AppModule {}
`),
    );
    expect(text(empty, 'src/app.module.ts')).toMatch(
      /@Module\(\{\n {2}imports: \[\n {4}HalProblemModule\.forRoot\(\{\n[\s\S]*\n {4}\}\),\n {2}\],\n\}\)\nexport class AppModule/,
    );
  });

  it('appends to existing imports, keeping their layout and the existing import line', async () => {
    const tree = await run(
      starterApp(`import { Module } from '@nestjs/common';
import { ProblemException } from 'nestjs-hal-problem';
import { ConfigModule } from './config.module';

@Module({
  imports: [
    ConfigModule,
  ],
})
export class AppModule {}
`),
    );
    const module = text(tree, 'src/app.module.ts');
    expect(module).toContain(
      "import { ProblemException, HalProblemModule } from 'nestjs-hal-problem';",
    );
    expect(module).toContain(`  imports: [
    ConfigModule,
    HalProblemModule.forRoot({`);
  });

  it('finds the root module main.ts bootstraps', async () => {
    const tree = starterApp();
    tree.overwrite(
      'src/main.ts',
      `import { NestFactory } from '@nestjs/core';
import { ApiModule } from './api/api.module.js';

void NestFactory.create(ApiModule).then((app) => app.listen(3000));
`,
    );
    tree.create(
      'src/api/api.module.ts',
      `import { Module } from '@nestjs/common';\n\n@Module({})\nexport class ApiModule {}\n`,
    );
    const result = await run(tree);
    expect(text(result, 'src/api/api.module.ts')).toContain(
      'HalProblemModule.forRoot(',
    );
    expect(text(result, 'src/app.module.ts')).not.toContain('HalProblemModule');
  });

  it("sets up a monorepo's project", async () => {
    const tree = starterApp();
    tree.overwrite('nest-cli.json', MONOREPO_NEST_CLI_JSON);
    tree.create(
      'apps/admin/src/app.module.ts',
      `import { Module } from '@nestjs/common';\n\n@Module({})\nexport class AppModule {}\n`,
    );
    const result = await runner.run('nest-add', { project: 'admin' }, tree);
    expect(text(result, 'apps/admin/src/app.module.ts')).toContain(
      'HalProblemModule.forRoot(',
    );
    await expect(
      runner.run('nest-add', { project: 'nope' }, tree),
    ).rejects.toThrow(
      'nest-cli.json has no project "nope" (it has api, admin)',
    );
  });

  it('names class-validator and class-transformer in package.json, once', async () => {
    const tree = await run(starterApp());
    const manifest = JSON.parse(text(tree, 'package.json') ?? '') as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(manifest.dependencies)).toEqual([
      '@nestjs/common',
      'class-transformer',
      'class-validator',
    ]);
    expect(manifest.dependencies['class-validator']).toMatch(/^\^0\.\d+\.\d+$/);
    const skipped = await run(starterApp(), { skipPackageJson: true });
    expect(text(skipped, 'package.json')).not.toContain('class-validator');
  });

  it('says what to add by hand when the imports are not an array literal', async () => {
    await expect(
      run(
        starterApp(`import { Module } from '@nestjs/common';
const shared = [];
@Module({ imports: shared })
export class AppModule {}
`),
      ),
    ).rejects.toThrow(
      /not an array literal \(shared\); add HalProblemModule\.forRoot/,
    );
  });

  it('is reachable as ng-add too', async () => {
    const tree = await runner.run(
      'ng-add',
      { sourceRoot: 'src' },
      starterApp(),
    );
    expect(text(tree, 'src/app.module.ts')).toContain('HalProblemModule');
  });
});
