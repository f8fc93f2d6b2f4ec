import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HostTree } from '@angular-devkit/schematics';
import * as ts from 'typescript';
import {
  MONOREPO_NEST_CLI_JSON,
  SchematicRunner,
  snapshot,
  text,
} from '../../../../../test/support/schematic-runner';

const collection = join(__dirname, '..', 'collection.json');
const repoRoot = join(__dirname, '..', '..', '..', '..', '..');

function app(options: { esm: boolean }): HostTree {
  const ext = options.esm ? '.js' : '';
  const tree = new HostTree();
  tree.create(
    'package.json',
    JSON.stringify({
      name: 'demo',
      ...(options.esm ? { type: 'module' } : {}),
    }),
  );
  tree.create('nest-cli.json', JSON.stringify({ sourceRoot: 'src' }));
  tree.create(
    'src/app.module.ts',
    `import { Module } from '@nestjs/common';
import { AppController } from './app.controller${ext}';

@Module({
  imports: [],
  controllers: [AppController],
})
export class AppModule {}
`,
  );
  return tree;
}

const ORDERS_FILES = [
  'src/orders/dto/create-order.dto.ts',
  'src/orders/dto/list-orders.query.ts',
  'src/orders/dto/update-order.dto.ts',
  'src/orders/entities/order.entity.ts',
  'src/orders/order.resource.ts',
  'src/orders/orders.controller.spec.ts',
  'src/orders/orders.controller.ts',
  'src/orders/orders.module.ts',
  'src/orders/orders.problems.ts',
  'src/orders/orders.scopes.ts',
  'src/orders/orders.service.spec.ts',
  'src/orders/orders.service.ts',
];

const created = (before: HostTree, after: HostTree) => {
  const old = snapshot(before);
  return [...snapshot(after).keys()]
    .filter((path) => !old.has(path))
    .map((path) => path.replace(/^\//, ''))
    .sort();
};

describe('nest g -c nestjs-hal-problem hal-resource (hal-resource schematic)', () => {
  const runner = new SchematicRunner(collection);
  const run = (tree: HostTree, options: Record<string, unknown>) =>
    runner.run('hal-resource', { sourceRoot: 'src', ...options }, tree);

  it('writes the module, controller, service, resource, problems, DTOs and specs, and imports the module', async () => {
    const before = app({ esm: true });
    const tree = await run(before, { name: 'orders' });
    expect(created(app({ esm: true }), tree as HostTree)).toEqual(ORDERS_FILES);
    expect(text(tree, 'src/app.module.ts'))
      .toBe(`import { Module } from '@nestjs/common';
import { AppController } from './app.controller.js';
import { OrdersModule } from './orders/orders.module.js';

@Module({
  imports: [
    OrdersModule,
  ],
  controllers: [AppController],
})
export class AppModule {}
`);
    const controller = text(tree, 'src/orders/orders.controller.ts') ?? '';
    expect(controller).toContain("@Controller('orders')");
    expect(controller).toContain("from './orders.service.js'");
    expect(controller).toContain('@Scopes(ORDERS_WRITE_SCOPE)');
    expect(controller).toContain('@HttpCode(204)');
    expect(controller).toContain('new HalPage(items');
    expect(text(tree, 'src/orders/order.resource.ts')).toContain(
      "@HalLink('edit', () => [OrdersController, 'update'], {",
    );
    expect(text(tree, 'src/orders/orders.service.ts')).toContain(
      'throw new ProblemException(OrderNotFound, {',
    );
  });

  it('writes CommonJS-style imports in a project that uses them', async () => {
    const tree = await run(app({ esm: false }), { name: 'orders' });
    expect(text(tree, 'src/app.module.ts')).toContain(
      "import { OrdersModule } from './orders/orders.module';",
    );
    expect(text(tree, 'src/orders/orders.module.ts')).toContain(
      "from './orders.controller';",
    );
  });

  it('derives every name from a multi-word name', async () => {
    const tree = await run(app({ esm: true }), { name: 'PurchaseOrders' });
    const controller =
      text(tree, 'src/purchase-orders/purchase-orders.controller.ts') ?? '';
    expect(controller).toContain('export class PurchaseOrdersController');
    expect(controller).toContain("@Controller('purchase-orders')");
    expect(controller).toContain(
      "@HalEmbedded('purchaseOrders', { type: () => PurchaseOrderResource })",
    );
    expect(
      text(tree, 'src/purchase-orders/purchase-orders.problems.ts'),
    ).toContain("slug: 'purchase-order-not-found'");
    expect(
      tree.exists('src/purchase-orders/dto/create-purchase-order.dto.ts'),
    ).toBe(true);
  });

  it('--flat writes into the folder itself; --no-spec leaves the specs out', async () => {
    const flat = await run(app({ esm: true }), { name: 'orders', flat: true });
    expect(flat.exists('src/orders.controller.ts')).toBe(true);
    expect(flat.exists('src/orders.controller.spec.ts')).toBe(true);
    expect(text(flat, 'src/app.module.ts')).toContain(
      "import { OrdersModule } from './orders.module.js';",
    );
    const noSpec = await run(app({ esm: true }), {
      name: 'orders',
      spec: false,
    });
    expect(
      created(app({ esm: true }), noSpec as HostTree).filter((f) =>
        f.includes('.spec.'),
      ),
    ).toEqual([]);
  });

  it('names the entity PostEntity where Post is taken by the imports', async () => {
    const tree = await run(app({ esm: true }), { name: 'posts' });
    expect(text(tree, 'src/posts/entities/post.entity.ts')).toContain(
      'export interface PostEntity {',
    );
    expect(text(tree, 'src/posts/posts.controller.ts')).toContain(
      "findOne(@Param('id', ParseUUIDPipe) id: string): PostEntity {",
    );
  });

  it("finds the app's modules above nest-cli.json's generateOptions.baseDir", async () => {
    // The CLI passes sourceRoot with the baseDir appended (src/modules).
    const tree = await runner.run(
      'hal-resource',
      { name: 'orders', sourceRoot: 'src/modules' },
      app({ esm: true }),
    );
    expect(tree.exists('src/modules/orders/orders.module.ts')).toBe(true);
    expect(text(tree, 'src/app.module.ts')).toContain(
      "import { OrdersModule } from './modules/orders/orders.module.js';",
    );
  });

  it('says so when the nearest module already names the new module', async () => {
    const once = await run(app({ esm: true }), { name: 'orders' });
    runner.logs.length = 0;
    await run(once as HostTree, { name: 'admin/orders' });
    expect(runner.logs.join('\n')).toContain(
      'src/app.module.ts already names OrdersModule',
    );
  });

  it('reads a Windows-style folder in the name', async () => {
    const tree = await run(app({ esm: true }), { name: 'admin\\orders' });
    expect(tree.exists('src/admin/orders/orders.controller.ts')).toBe(true);
  });

  it('takes a folder in the name, as nest g resource does', async () => {
    const tree = await run(app({ esm: true }), { name: 'admin/orders' });
    expect(tree.exists('src/admin/orders/orders.controller.ts')).toBe(true);
    expect(text(tree, 'src/app.module.ts')).toContain(
      "import { OrdersModule } from './admin/orders/orders.module.js';",
    );
  });

  it('honours --path, --skipImport and the spec file suffix', async () => {
    const tree = await run(app({ esm: true }), {
      name: 'orders',
      path: 'features',
      skipImport: true,
      specFileSuffix: 'test',
    });
    expect(tree.exists('src/features/orders/orders.controller.test.ts')).toBe(
      true,
    );
    expect(text(tree, 'src/app.module.ts')).not.toContain('OrdersModule');
    const configured = app({ esm: true });
    configured.overwrite(
      'src/app.module.ts',
      "import { Module } from '@nestjs/common';\n\n@Module({ imports: [HalProblemModule.forRoot({})] })\nexport class AppModule {}\n",
    );
    const skipped = await run(configured, { name: 'orders', skipImport: true });
    expect(text(skipped, 'src/app.module.ts')).not.toContain('relations');
  });

  it("writes into a monorepo project's sourceRoot and imports into its module", async () => {
    const tree = app({ esm: false });
    tree.overwrite('nest-cli.json', MONOREPO_NEST_CLI_JSON);
    tree.create(
      'apps/admin/src/admin.module.ts',
      `import { Module } from '@nestjs/common';\n\n@Module({})\nexport class AdminModule {}\n`,
    );
    const result = await runner.run(
      'hal-resource',
      { name: 'widgets', project: 'admin' },
      tree,
    );
    expect(result.exists('apps/admin/src/widgets/widgets.controller.ts')).toBe(
      true,
    );
    expect(text(result, 'apps/admin/src/admin.module.ts')).toContain(
      "import { WidgetsModule } from './widgets/widgets.module';",
    );
  });

  it("registers the embedded items' relation in the root module's HalProblemModule.forRoot", async () => {
    const tree = app({ esm: true });
    tree.overwrite(
      'src/app.module.ts',
      `import { Module } from '@nestjs/common';
import { HalProblemModule } from 'nestjs-hal-problem';

@Module({
  imports: [
    HalProblemModule.forRoot({
      validation: true,
    }),
  ],
})
export class AppModule {}
`,
    );
    const orders = await run(tree, { name: 'orders' });
    expect(text(orders, 'src/app.module.ts'))
      .toContain(`    HalProblemModule.forRoot({
      validation: true,
      hal: { relations: ['orders'] },
    }),
    OrdersModule,`);
    const both = await run(orders as HostTree, { name: 'purchase-orders' });
    expect(text(both, 'src/app.module.ts')).toContain(
      "hal: { relations: ['orders', 'purchaseOrders'] },",
    );

    const bare = app({ esm: true });
    bare.overwrite(
      'src/app.module.ts',
      (text(bare, 'src/app.module.ts') ?? '').replace(
        'imports: [],',
        'imports: [HalProblemModule.forRoot()],',
      ),
    );
    expect(
      text(await run(bare, { name: 'orders' }), 'src/app.module.ts'),
    ).toContain("HalProblemModule.forRoot({ hal: { relations: ['orders'] } })");
  });

  it('says what to register by hand when the root module has no forRoot({...})', async () => {
    runner.logs.length = 0;
    await run(app({ esm: true }), { name: 'orders' });
    expect(runner.logs.join('\n')).toContain(
      "add 'orders' to hal.relations of HalProblemModule.forRoot()",
    );
  });

  it('documents the resource for OpenAPI when the project depends on @nestjs/swagger', async () => {
    const withSwagger = app({ esm: true });
    withSwagger.overwrite(
      'package.json',
      JSON.stringify({
        type: 'module',
        dependencies: { '@nestjs/swagger': '^12.0.0' },
      }),
    );
    const tree = await run(withSwagger, { name: 'orders' });
    const controller = text(tree, 'src/orders/orders.controller.ts') ?? '';
    expect(controller).toContain("@ApiTags('orders')");
    expect(controller).toContain(
      '@ApiHalResponse(OrderResource, { page: true })',
    );
    expect(controller).toContain(
      '@ApiProblemResponses(OrderNotFound, OrderNameTaken)',
    );
    expect(text(tree, 'src/orders/order.resource.ts')).toContain(
      'export class OrderResource implements Order {',
    );
    expect(text(tree, 'src/orders/dto/create-order.dto.ts')).toContain(
      '@ApiProperty({ maxLength: 100 })',
    );
    const without = await run(app({ esm: true }), { name: 'orders' });
    expect(text(without, 'src/orders/orders.controller.ts')).not.toContain(
      'swagger',
    );
    expect(text(without, 'src/orders/order.resource.ts')).toContain(
      'export class OrderResource {}',
    );
  });

  it('refuses to overwrite an existing resource', async () => {
    const once = await run(app({ esm: true }), { name: 'orders' });
    await expect(run(once as HostTree, { name: 'orders' })).rejects.toThrow(
      'hal-resource would overwrite src/orders/orders.module.ts',
    );
  });

  it('refuses a name that is not one', async () => {
    await expect(run(app({ esm: true }), { name: '42' })).rejects.toThrow(
      'is not a resource name',
    );
  });

  it('generates code that type-checks under strict settings against the library', async () => {
    // The scaffolding e2e test compiles and runs it in a real Nest app; this
    // is the quick check: CommonJS and ESM output, with the library's source.
    // CommonJS on Express without OpenAPI; ESM on Fastify with it, for a name
    // whose singular (Post) is also a Nest decorator the controller imports.
    for (const { esm, openapi, name, fastify } of [
      { esm: false, openapi: false, name: 'purchase-orders', fastify: false },
      { esm: true, openapi: true, name: 'posts', fastify: true },
    ]) {
      const project = app({ esm });
      if (fastify) {
        project.overwrite(
          'package.json',
          JSON.stringify({
            type: 'module',
            dependencies: { '@nestjs/platform-fastify': '^12.0.0' },
          }),
        );
      }
      const tree = await run(project, { name, openapi });
      // Under the repo's dist/, so imports resolve through its node_modules.
      mkdirSync(join(repoRoot, 'dist'), { recursive: true });
      const dir = mkdtempSync(join(repoRoot, 'dist', 'hal-resource-check-'));
      try {
        writeFileSync(
          join(dir, 'package.json'),
          JSON.stringify({ type: esm ? 'module' : 'commonjs' }),
        );
        const files: string[] = [];
        tree.visit((path) => {
          if (!path.startsWith(`/src/${name}/`)) return;
          const file = join(dir, path);
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, text(tree, path) ?? '');
          files.push(file);
        });
        const program = ts.createProgram(files, {
          strict: true,
          noEmit: true,
          target: ts.ScriptTarget.ES2023,
          // With package.json's type, as a Nest app: `module` decides ESM or CommonJS.
          module: ts.ModuleKind.NodeNext,
          moduleResolution: ts.ModuleResolutionKind.NodeNext,
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          isolatedModules: true,
          skipLibCheck: true,
          types: ['node', 'jest'],
          paths: {
            'nestjs-hal-problem': [
              join(repoRoot, 'libs/hal-problem/src/index.ts'),
            ],
          },
        });
        const diagnostics = ts
          .getPreEmitDiagnostics(program)
          .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
        expect({ name, diagnostics }).toEqual({ name, diagnostics: [] });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }, 60_000);
});
