import { createRequire } from 'node:module';
import { addToModuleImports } from '../module-imports';
import {
  ScaffoldingError,
  type SchematicContext,
  type SchematicRule,
  type SchematicTree,
} from '../schematic-tree.interface';
import {
  readJson,
  readText,
  resolveSourceRoot,
  rootModulePath,
} from '../workspace';
import type { NestAddOptions } from './nest-add.options.interface';

const requireOptional = createRequire(__filename);

/** The packages generated code imports directly; npm installs them as our peers, package.json should name them. */
const DIRECT_PEERS = ['class-validator', 'class-transformer'] as const;

/**
 * `nest add nestjs-hal-problem`: imports `HalProblemModule.forRoot({...})`
 * into the root module with the chosen options, and names the validation
 * packages in package.json. Idempotent: a module that already imports
 * HalProblemModule is left alone.
 */
export function nestAdd(options: NestAddOptions): SchematicRule {
  return (tree, context) => {
    const sourceRoot = resolveSourceRoot(tree, options);
    const modulePath = rootModulePath(tree, sourceRoot, options.module);
    const element = forRootCall(options, tree);
    const result = addToModuleImports(modulePath, readText(tree, modulePath), {
      symbol: 'HalProblemModule',
      from: 'nestjs-hal-problem',
      element,
    });
    if (result.changed) {
      tree.overwrite(modulePath, result.text);
      context.logger.info(
        `nestjs-hal-problem: ${modulePath} now imports ${element.split('\n')[0]}...}).`,
      );
    } else {
      context.logger.info(
        `nestjs-hal-problem: ${modulePath} already imports HalProblemModule; left unchanged.`,
      );
    }
    if (!options.skipPackageJson) addDirectPeers(tree, context);
    context.logger.info(
      'Next: nest g -c nestjs-hal-problem hal-resource <name> scaffolds a resource that follows the contract (docs/scaffolding.md).',
    );
  };
}

const quote = (value: string) => `'${value.replace(/[\\']/g, '\\$&')}'`;

/** `HalProblemModule.forRoot({...})` with the chosen options, one commented line each. */
function forRootCall(options: NestAddOptions, tree: SchematicTree): string {
  const lines: string[] = [];
  if (options.isGlobal) {
    lines.push(
      '// Feature modules can inject RouteTable and OperationsService.',
      'isGlobal: true,',
    );
  }
  if (options.problemTypeBaseUri) {
    if (!/^[a-z][a-z\d+.-]*:/i.test(options.problemTypeBaseUri)) {
      throw new ScaffoldingError(
        `--problemTypeBaseUri must be an absolute URI, not "${options.problemTypeBaseUri}".`,
      );
    }
    lines.push(
      '// Problem `type`s are this prefix plus the slug of each defineProblemType().',
      `problemTypeBaseUri: ${quote(options.problemTypeBaseUri)},`,
    );
  }
  if (options.instance) {
    lines.push(`instance: ${quote(options.instance)},`);
  }
  lines.push(
    ...(options.validation === false
      ? [
          '// No validation pipe: bodies reach handlers unchecked.',
          'validation: false,',
        ]
      : [
          '// class-validator on bodies, queries and params: a 400 problem lists each error.',
          'validation: { whitelist: true, forbidNonWhitelisted: true, transform: true },',
        ]),
  );
  if (options.auth) {
    if (!options.issuer || !options.audience) {
      throw new ScaffoldingError(
        '--auth needs --issuer and --audience: every token is checked against both.',
      );
    }
    lines.push(
      '// Bearer JWTs (RFC 6750): 401/403 problems with WWW-Authenticate. @Public() opts a route out.',
      'auth: {',
      `  realm: ${quote(options.realm ?? packageName(tree))},`,
      "  algorithms: ['HS256'],",
      '  // Startup fails without a key, rather than accepting unsigned tokens.',
      '  secretOrKey: process.env.JWT_SECRET,',
      `  issuer: ${quote(options.issuer)},`,
      `  audience: ${quote(options.audience)},`,
      '},',
    );
  }
  return `HalProblemModule.forRoot({\n${lines.map((line) => `  ${line}`).join('\n')}\n})`;
}

function packageName(tree: SchematicTree): string {
  const name = readJson<{ name?: string }>(tree, 'package.json')?.name;
  return name?.replace(/^@[^/]+\//, '') || 'api';
}

interface Manifest {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** Names class-validator and class-transformer in the app's dependencies, with the range this library supports. */
function addDirectPeers(tree: SchematicTree, context: SchematicContext): void {
  if (!tree.exists('package.json')) return;
  const text = readText(tree, 'package.json');
  const manifest = JSON.parse(text) as Manifest;
  const own = requireOptional('../../../package.json') as Manifest;
  const missing = DIRECT_PEERS.filter(
    (name) =>
      !manifest.dependencies?.[name] && !manifest.devDependencies?.[name],
  );
  if (missing.length === 0) return;
  const dependencies = { ...manifest.dependencies };
  for (const name of missing) {
    // `^0.14.0 || ^0.15.0` → the newest range.
    dependencies[name] = (own.peerDependencies?.[name] ?? '*')
      .split('||')
      .pop()!
      .trim();
  }
  const sorted = Object.fromEntries(
    Object.entries(dependencies).sort(([a], [b]) => a.localeCompare(b)),
  );
  const indent = /^\{\s*\n([ \t]+)/.exec(text)?.[1] ?? '  ';
  tree.overwrite(
    'package.json',
    JSON.stringify({ ...manifest, dependencies: sorted }, null, indent) + '\n',
  );
  context.logger.info(
    `nestjs-hal-problem: added ${missing.join(' and ')} to package.json (the generated DTOs import them); run your package manager's install.`,
  );
}
