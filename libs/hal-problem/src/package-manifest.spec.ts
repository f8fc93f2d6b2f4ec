import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';

const root = join(__dirname, '..');
const manifest = JSON.parse(
  readFileSync(join(root, 'package.json'), 'utf8'),
) as {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    // *.templates.ts hold the code the schematics write into other projects.
    return entry.name.endsWith('.ts') &&
      !entry.name.endsWith('.spec.ts') &&
      !entry.name.endsWith('.templates.ts')
      ? [path]
      : [];
  });
}

/** The library's .d.ts as `nest build` writes them, by absolute path (in memory). */
function emittedDeclarations(): Map<string, string> {
  const program = ts.createProgram([join(root, 'src/index.ts')], {
    declaration: true,
    emitDeclarationOnly: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    skipLibCheck: true,
    rootDir: join(root, 'src'),
    outDir: join(root, 'dist-types'),
  });
  const files = new Map<string, string>();
  program.emit(undefined, (name, text) => files.set(resolve(name), text));
  return files;
}

/** Whether an installed package carries its own declarations. */
function shipsTypes(name: string): boolean {
  const dir = join(root, '../../node_modules', name);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    types?: string;
    typings?: string;
    exports?: unknown;
  };
  return (
    Boolean(pkg.types ?? pkg.typings) ||
    JSON.stringify(pkg.exports ?? {}).includes('"types"') ||
    existsSync(join(dir, 'index.d.ts'))
  );
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const IMPORT =
  /^(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)|requireOptional\('([^']+)'\)/gm;

describe('the library package manifest', () => {
  const imported = new Map<string, string[]>();
  for (const file of sources(join(root, 'src'))) {
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2] ?? match[3];
      if (
        specifier.startsWith('.') ||
        specifier.startsWith('node:') ||
        builtinModules.includes(specifier)
      )
        continue;
      const name = packageOf(specifier);
      imported.set(name, [
        ...(imported.get(name) ?? []),
        file.slice(root.length + 1),
      ]);
    }
  }
  const declared = { ...manifest.dependencies, ...manifest.peerDependencies };

  it('declares every package the source imports', () => {
    const undeclared = [...imported.keys()].filter(
      (name) => !(name in declared),
    );
    expect(undeclared).toEqual([]);
  });

  it('declares nothing the source does not import', () => {
    const unused = Object.keys(declared).filter(
      (name) =>
        // `@types/x` for an imported `x` (see the declarations test below).
        !imported.has(name.replace(/^@types\//, '')) &&
        name !== 'reflect-metadata' &&
        name !== 'class-transformer',
    );
    expect(unused).toEqual([]);
  });

  it('brings the types of every dependency its declarations name', () => {
    // An app gets these .d.ts, not the sources: a dependency they import
    // that ships no types (jsonwebtoken) would be `any` there, so
    // `algorithms: ['HS265']` compiled, or an error under skipLibCheck:
    // false. Peers are the app's to install, with their types.
    const declarations = emittedDeclarations();
    const reachable = new Set<string>();
    const named = new Set<string>();
    const visit = (file: string): void => {
      if (reachable.has(file)) return;
      reachable.add(file);
      const text = declarations.get(file) ?? '';
      for (const match of text.matchAll(
        /from\s+'([^']+)'|import\("([^"]+)"/g,
      )) {
        const specifier = match[1] ?? match[2];
        if (specifier.startsWith('.'))
          visit(resolve(dirname(file), `${specifier}.d.ts`));
        else if (!specifier.startsWith('node:'))
          named.add(packageOf(specifier));
      }
    };
    visit(resolve(root, 'dist-types/index.d.ts'));
    const untyped = [...named].filter(
      (name) =>
        name in (manifest.dependencies ?? {}) &&
        !shipsTypes(name) &&
        !(`@types/${name}` in (manifest.dependencies ?? {})),
    );
    expect(untyped).toEqual([]);
  });

  it('marks peers that only some apps need as optional', () => {
    for (const name of ['@nestjs/swagger', 'ioredis', 'typescript']) {
      expect(manifest.peerDependenciesMeta?.[name]?.optional).toBe(true);
    }
  });

  it('imports no Nest internals or deep dist paths', () => {
    for (const file of sources(join(root, 'src'))) {
      const text = readFileSync(file, 'utf8');
      expect({
        file,
        deep: /@nestjs\/[a-z-]+\/(?:internal|dist|src)\b|@nestjs\/common\/utils/.test(
          text,
        ),
      }).toEqual({ file, deep: false });
    }
  });
});
