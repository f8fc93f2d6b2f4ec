import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';

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
        !imported.has(name) &&
        name !== 'reflect-metadata' &&
        name !== 'class-transformer',
    );
    expect(unused).toEqual([]);
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
