import { logging, schema } from '@angular-devkit/core';
import {
  formats,
  HostTree,
  SchematicEngine,
  type Tree,
} from '@angular-devkit/schematics';
// The devkit's own SchematicTestRunner also loads its package-manager task
// executor, whose ESM-only dependencies (ora and a dozen more) Jest on Node 20
// cannot require. The engine, the test host and the schema validation are all
// these specs need, so they are put together here the way that runner does.
import { NodeModulesTestEngineHost } from '@angular-devkit/schematics/tools/node-modules-test-engine-host';
import { validateOptionsWithSchema } from '@angular-devkit/schematics/tools/schema-option-transform';
import { lastValueFrom, of } from 'rxjs';

/** Runs a collection's schematics on an in-memory tree, with its schemas' validation and defaults. */
export class SchematicRunner {
  readonly logs: string[] = [];
  private readonly logger = new logging.Logger('schematics');
  private readonly engine: SchematicEngine<object, object>;
  private readonly collectionName = 'under-test';

  constructor(collectionPath: string) {
    const host = new NodeModulesTestEngineHost([collectionPath]);
    host.registerCollection(this.collectionName, collectionPath);
    const registry = new schema.CoreSchemaRegistry(formats.standardFormats);
    registry.addPostTransform(schema.transforms.addUndefinedDefaults);
    host.registerOptionsTransform(validateOptionsWithSchema(registry));
    this.engine = new SchematicEngine(host);
    this.logger.subscribe((entry) => this.logs.push(entry.message));
  }

  async run(
    name: string,
    options: Record<string, unknown>,
    tree: Tree = new HostTree(),
  ): Promise<Tree> {
    const schematic = this.engine
      .createCollection(this.collectionName)
      .createSchematic(name, true);
    return lastValueFrom(
      schematic.call(options, of(tree), { logger: this.logger }),
    );
  }
}

/** A file's text, or undefined when the tree has no such file. */
export function text(tree: Tree, path: string): string | undefined {
  return tree.read(path)?.toString('utf8');
}

/** Every file of a tree with its text, for before/after comparisons. */
export function snapshot(tree: Tree): Map<string, string> {
  const files = new Map<string, string>();
  tree.visit((path) => files.set(path, text(tree, path) ?? ''));
  return files;
}

/** nest-cli.json of a monorepo with two apps, `api` (the default) and `admin`. */
export const MONOREPO_NEST_CLI_JSON = JSON.stringify({
  monorepo: true,
  sourceRoot: 'apps/api/src',
  projects: {
    api: { type: 'application', sourceRoot: 'apps/api/src' },
    admin: { type: 'application', sourceRoot: 'apps/admin/src' },
  },
});
