import { posix } from 'node:path';
import {
  ScaffoldingError,
  type SchematicTree,
} from './schematic-tree.interface';

/** Options every schematic of the collection accepts; the Nest CLI fills `sourceRoot`. */
export interface WorkspaceOptions {
  /** The app's source folder, as the Nest CLI resolved it from nest-cli.json. */
  sourceRoot?: string;
  /** A project of a monorepo's nest-cli.json. */
  project?: string;
}

interface NestCliConfig {
  sourceRoot?: string;
  projects?: Record<string, { sourceRoot?: string; type?: string }>;
}

export function readText(tree: SchematicTree, path: string): string {
  const content = tree.read(path);
  if (content === null) throw new ScaffoldingError(`${path} does not exist.`);
  return content.toString('utf8');
}

/** A JSON file of the tree, or undefined when there is none. */
export function readJson<T>(tree: SchematicTree, path: string): T | undefined {
  if (!tree.exists(path)) return undefined;
  try {
    return JSON.parse(readText(tree, path)) as T;
  } catch {
    throw new ScaffoldingError(`${path} is not valid JSON.`);
  }
}

/** Paths in the tree are relative to the workspace root, without `./` or a leading `/`. */
export function normalize(path: string): string {
  return posix.normalize(path.replace(/\\/g, '/')).replace(/^(\.\/|\/)+/, '');
}

/** nest-cli.json's source roots: the project's (checked to exist) and the app's. */
function configuredSourceRoots(
  tree: SchematicTree,
  project: string | undefined,
): { project?: string; app?: string } {
  const config = readJson<NestCliConfig>(tree, 'nest-cli.json') ?? {};
  if (!project) return { app: config.sourceRoot };
  const entry = config.projects?.[project];
  if (!entry) {
    const known = Object.keys(config.projects ?? {});
    throw new ScaffoldingError(
      `nest-cli.json has no project "${project}"` +
        (known.length ? ` (it has ${known.join(', ')}).` : '.'),
    );
  }
  return { project: entry.sourceRoot, app: config.sourceRoot };
}

/**
 * The source folder to write into: the one the Nest CLI passed, else
 * `--project`'s in a monorepo, else nest-cli.json's, else `src`.
 */
export function resolveSourceRoot(
  tree: SchematicTree,
  options: WorkspaceOptions,
): string {
  const roots = configuredSourceRoots(tree, options.project);
  if (options.sourceRoot) return normalize(options.sourceRoot);
  if (options.project) {
    if (!roots.project) {
      throw new ScaffoldingError(
        `nest-cli.json's project "${options.project}" has no sourceRoot.`,
      );
    }
    return normalize(roots.project);
  }
  return normalize(roots.app ?? 'src');
}

/** The project's own source root in nest-cli.json (before any generateOptions.baseDir). */
export function projectSourceRoot(
  tree: SchematicTree,
  project: string | undefined,
): string {
  const roots = configuredSourceRoots(tree, project);
  return normalize(roots.project ?? roots.app ?? 'src');
}

const RELATIVE_IMPORT = /from\s+['"](\.{1,2}\/[^'"]+)['"]/g;

/**
 * `.js` when the project writes relative imports with it (ESM, as Nest 12's
 * `nest new` does), else nothing: read off the project's own files so the
 * generated code matches them, then off package.json's `type`.
 */
export function importSuffix(
  tree: SchematicTree,
  sampleFiles: readonly string[],
): '.js' | '' {
  for (const file of sampleFiles) {
    if (!tree.exists(file)) continue;
    for (const [, specifier] of readText(tree, file).matchAll(
      RELATIVE_IMPORT,
    )) {
      return specifier.endsWith('.js') ? '.js' : '';
    }
  }
  const manifest = readJson<{ type?: string }>(tree, 'package.json');
  return manifest?.type === 'module' ? '.js' : '';
}

/** `./orders/orders.module` (plus the suffix) from one file to another, both tree paths. */
export function relativeImport(
  fromFile: string,
  toFile: string,
  suffix: string,
): string {
  const path = posix
    .relative(posix.dirname(fromFile), toFile)
    .replace(/\.ts$/, suffix);
  return path.startsWith('.') ? path : `./${path}`;
}

/** The nearest `*.module.ts` in `dir` or a folder above it, up to the source root. */
export function findNearestModule(
  tree: SchematicTree,
  dir: string,
  sourceRoot: string,
): string | undefined {
  for (let current = dir; ; current = posix.dirname(current)) {
    const module = tree
      .getDir(current)
      .subfiles.find((file) => file.endsWith('.module.ts'));
    if (module) return posix.join(current, module);
    if (current === sourceRoot || !current.startsWith(`${sourceRoot}/`)) {
      return undefined;
    }
  }
}

/** The module main.ts bootstraps (`NestFactory.create(AppModule)`), else app.module.ts. */
export function rootModulePath(
  tree: SchematicTree,
  sourceRoot: string,
  explicit: string | undefined,
): string {
  if (explicit) {
    const path = normalize(posix.join(sourceRoot, explicit));
    if (!tree.exists(path)) {
      throw new ScaffoldingError(`--module: ${path} does not exist.`);
    }
    return path;
  }
  const main = posix.join(sourceRoot, 'main.ts');
  if (tree.exists(main)) {
    const text = readText(tree, main);
    const root = /NestFactory\.create\w*(?:<[^>]*>)?\(\s*(\w+)/.exec(text)?.[1];
    const from = root
      ? new RegExp(
          `import\\s*\\{[^}]*\\b${root}\\b[^}]*\\}\\s*from\\s*['"](\\.{1,2}/[^'"]+)['"]`,
        ).exec(text)?.[1]
      : undefined;
    if (from) {
      const path = normalize(
        posix.join(sourceRoot, from.replace(/\.js$/, '') + '.ts'),
      );
      if (tree.exists(path)) return path;
    }
  }
  const fallback = posix.join(sourceRoot, 'app.module.ts');
  if (!tree.exists(fallback)) {
    throw new ScaffoldingError(
      `No root module found (looked at ${main} and ${fallback}); name it with --module.`,
    );
  }
  return fallback;
}
