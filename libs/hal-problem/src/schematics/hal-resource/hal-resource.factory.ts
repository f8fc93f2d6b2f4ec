import { posix } from 'node:path';
import { addHalRelation, addToModuleImports } from '../module-imports';
import { resourceNames } from '../names';
import { formatWithProjectPrettier } from '../prettier-format';
import {
  ScaffoldingError,
  type SchematicContext,
  type SchematicTree,
} from '../schematic-tree.interface';
import {
  findNearestModule,
  importSuffix,
  normalize,
  readJson,
  readText,
  relativeImport,
  resolveSourceRoot,
  projectSourceRoot,
  rootModulePath,
} from '../workspace';
import type { HalResourceOptions } from './hal-resource.options.interface';
import * as templates from './hal-resource.templates';

/**
 * `nest g -c nestjs-hal-problem hal-resource <name>`: a CRUD resource that
 * follows the contract (HAL with links and paging, problems for errors,
 * scopes on writes, 201/204), registered in the nearest module.
 */
export function halResource(
  options: HalResourceOptions,
): (tree: SchematicTree, context: SchematicContext) => Promise<void> {
  return async (tree, context) => {
    if (!options.name)
      throw new ScaffoldingError('hal-resource needs a name, e.g. orders.');
    const names = resourceNames(options.name);
    const sourceRoot = resolveSourceRoot(tree, options);
    // The CLI appends nest-cli.json's generateOptions.baseDir to the source
    // root it passes; modules and main.ts are looked for up to the real one.
    const appRoot = projectSourceRoot(tree, options.project);
    const searchRoot = sourceRoot.startsWith(`${appRoot}/`)
      ? appRoot
      : sourceRoot;
    // `admin/orders`, as `nest g resource` takes it: a folder, then the name.
    const folder = posix.dirname(options.name.replace(/\\/g, '/'));
    const base = normalize(
      posix.join(sourceRoot, options.path ?? '', folder === '.' ? '' : folder),
    );
    const dir = options.flat ? base : posix.join(base, names.fileName);
    // Before anything is written, so a flat resource does not find its own module.
    const parentModule = options.skipImport
      ? undefined
      : findNearestModule(tree, base, searchRoot);
    const ext = importSuffix(tree, [
      ...(parentModule ? [parentModule] : []),
      posix.join(searchRoot, 'main.ts'),
      posix.join(searchRoot, 'app.module.ts'),
    ]);
    const openapi = options.openapi ?? dependsOn(tree, '@nestjs/swagger');
    const fastify =
      dependsOn(tree, '@nestjs/platform-fastify') &&
      !dependsOn(tree, '@nestjs/platform-express');
    const ctx = { names, ext, openapi, fastify };
    const suffix = options.specFileSuffix || 'spec';
    const files: [string, string][] = [
      [`${names.fileName}.module.ts`, templates.moduleFile(ctx)],
      [`${names.fileName}.controller.ts`, templates.controllerFile(ctx)],
      [`${names.fileName}.service.ts`, templates.serviceFile(ctx)],
      [`${names.fileName}.problems.ts`, templates.problemsFile(ctx)],
      [`${names.fileName}.scopes.ts`, templates.scopesFile(ctx)],
      [`${names.singularFileName}.resource.ts`, templates.resourceFile(ctx)],
      [
        `entities/${names.singularFileName}.entity.ts`,
        templates.entityFile(ctx),
      ],
      [
        `dto/create-${names.singularFileName}.dto.ts`,
        templates.createDtoFile(ctx),
      ],
      [
        `dto/update-${names.singularFileName}.dto.ts`,
        templates.updateDtoFile(ctx),
      ],
      [`dto/list-${names.fileName}.query.ts`, templates.listQueryFile(ctx)],
      ...(options.spec === false
        ? []
        : ([
            [
              `${names.fileName}.controller.${suffix}.ts`,
              templates.controllerSpecFile(ctx),
            ],
            [
              `${names.fileName}.service.${suffix}.ts`,
              templates.serviceSpecFile(ctx),
            ],
          ] as [string, string][])),
    ];
    const existing = files
      .map(([file]) => posix.join(dir, file))
      .filter((path) => tree.exists(path));
    if (existing.length > 0) {
      throw new ScaffoldingError(
        `hal-resource would overwrite ${existing.join(', ')}; choose another name or --path.`,
      );
    }
    for (const [file, content] of files) {
      const path = posix.join(dir, file);
      tree.create(path, await formatWithProjectPrettier(path, content));
    }

    const modulePath = posix.join(dir, `${names.fileName}.module.ts`);
    let importedBy: string | undefined;
    if (parentModule) {
      const result = addToModuleImports(
        parentModule,
        readText(tree, parentModule),
        {
          symbol: `${names.className}Module`,
          from: relativeImport(parentModule, modulePath, ext),
          element: `${names.className}Module`,
        },
      );
      if (result.changed) {
        // The user's file keeps its layout: only the two insertions change.
        tree.overwrite(parentModule, result.text);
        importedBy = parentModule;
      } else {
        context.logger.warn(
          `nestjs-hal-problem: ${parentModule} already names ${names.className}Module; import ${modulePath} where you need it.`,
        );
      }
    }
    if (options.skipImport) {
      context.logger.info(
        `nestjs-hal-problem: --skip-import: import ${names.className}Module yourself, and add '${names.propertyName}' to hal.relations of HalProblemModule.forRoot().`,
      );
    } else {
      registerEmbeddedRelation(tree, context, searchRoot, names.propertyName);
    }
    context.logger.info(
      `nestjs-hal-problem: ${names.className}Module in ${dir}` +
        (importedBy
          ? `, imported by ${importedBy}.`
          : ' (not imported by any module).'),
    );
  };
}

/**
 * The list route embeds its items under a relation named after the resource,
 * which the module accepts once it is registered in `hal.relations`: added to
 * the root module's `HalProblemModule.forRoot({...})`.
 */
function registerEmbeddedRelation(
  tree: SchematicTree,
  context: SchematicContext,
  sourceRoot: string,
  rel: string,
): void {
  const byHand = `add '${rel}' to hal.relations of HalProblemModule.forRoot() (the relation of the embedded items).`;
  let root: string;
  try {
    root = rootModulePath(tree, sourceRoot, undefined);
  } catch {
    context.logger.warn(`nestjs-hal-problem: no root module found; ${byHand}`);
    return;
  }
  const result = addHalRelation(root, readText(tree, root), rel);
  if (!result) {
    context.logger.warn(
      `nestjs-hal-problem: ${root} has no HalProblemModule.forRoot({ ... }) (run nest add nestjs-hal-problem first); ${byHand}`,
    );
  } else if (result.changed) {
    tree.overwrite(root, result.text);
  }
}

function dependsOn(tree: SchematicTree, name: string): boolean {
  const manifest = readJson<{
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  }>(tree, 'package.json');
  return Boolean(
    manifest?.dependencies?.[name] ?? manifest?.devDependencies?.[name],
  );
}
