import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** The README's quick start must compile against the library as it is (kept true as the API grows). */
describe('README quick start', () => {
  it('type-checks under the project strict settings', () => {
    const root = join(__dirname, '..');
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(
      readme.indexOf('## Quick start in your own app'),
    );
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toBeDefined();
    const dir = mkdtempSync(join(__dirname, '.readme-'));
    const file = join(dir, 'quick-start.ts');
    writeFileSync(file, code!);
    try {
      const config = ts.readConfigFile(join(root, 'tsconfig.json'), (path) =>
        ts.sys.readFile(path),
      );
      const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
      const program = ts.createProgram([file], {
        ...parsed.options,
        noEmit: true,
        incremental: false,
      });
      const diagnostics = ts
        .getPreEmitDiagnostics(program)
        .filter((diagnostic) => diagnostic.file?.fileName === file)
        .map((diagnostic) =>
          ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
        );
      expect(diagnostics).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * A new user runs the READMEs' `npm install` line as it is: it must name
 * every package the library needs that a Nest app does not have already,
 * the required peers' own peers included (passport, for @nestjs/passport).
 */
describe('README install commands', () => {
  const root = join(__dirname, '..');
  type Manifest = {
    peerDependencies?: Record<string, string>;
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  };
  const manifestOf = (path: string): Manifest =>
    JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  const requiredPeers = (manifest: Manifest): string[] =>
    Object.keys(manifest.peerDependencies ?? {}).filter(
      (name) => !manifest.peerDependenciesMeta?.[name]?.optional,
    );
  // What `nest new` gives every app.
  const inEveryNestApp = new Set([
    '@nestjs/common',
    '@nestjs/core',
    'reflect-metadata',
    'rxjs',
  ]);
  const peers = requiredPeers(
    manifestOf(join(root, 'libs/hal-problem/package.json')),
  );
  const needed = [
    ...new Set([
      ...peers,
      ...peers.flatMap((name) =>
        requiredPeers(
          manifestOf(join(root, 'node_modules', name, 'package.json')),
        ),
      ),
    ]),
  ].filter((name) => !inEveryNestApp.has(name));

  it.each(['README.md', 'libs/hal-problem/README.md'])(
    '%s installs every package an app needs',
    (file) => {
      const text = readFileSync(join(root, file), 'utf8');
      const command = /^npm install nestjs-hal-problem .*$/m.exec(text)?.[0];
      expect(command).toBeDefined();
      const named = command!.split(/\s+/);
      expect(needed.filter((name) => !named.includes(name))).toEqual([]);
    },
  );
});
