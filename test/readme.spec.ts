import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/**
 * Type-checks sources as files of the repository, under its tsconfig
 * (strict, `nestjs-hal-problem` mapped to the library's source): one
 * program for all of them, and each file's own diagnostics.
 */
function typeCheck(sources: Record<string, string>): Record<string, string[]> {
  const root = join(__dirname, '..');
  const dir = mkdtempSync(join(__dirname, '.readme-'));
  try {
    const files = Object.keys(sources).map((name) => {
      const file = join(dir, `${name}.ts`);
      writeFileSync(file, sources[name]);
      return file;
    });
    const config = ts.readConfigFile(join(root, 'tsconfig.json'), (path) =>
      ts.sys.readFile(path),
    );
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
    const program = ts.createProgram(files, {
      ...parsed.options,
      noEmit: true,
      incremental: false,
    });
    const diagnostics = ts.getPreEmitDiagnostics(program);
    return Object.fromEntries(
      Object.keys(sources).map((name, index) => [
        name,
        diagnostics
          .filter((diagnostic) => diagnostic.file?.fileName === files[index])
          .map((diagnostic) =>
            ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
          ),
      ]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

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
    expect(typeCheck({ 'quick-start': code! })['quick-start']).toEqual([]);
  });
});

/**
 * Snippets of docs/*.md that configure an API a user copies (jwks-rsa's
 * client, the operations lease, a serializer subclass): each is found by
 * a line it holds, given the imports and the context its page leaves
 * implicit, and must compile against the library as it is.
 */
describe('docs snippets', () => {
  const root = join(__dirname, '..');
  /** The one ```ts block of `doc` that contains `marker`. */
  const snippet = (doc: string, marker: string): string => {
    const text = readFileSync(join(root, doc), 'utf8');
    const blocks = [...text.matchAll(/```ts\n([\s\S]*?)```/g)]
      .map((match) => match[1])
      .filter((code) => code.includes(marker));
    if (blocks.length !== 1)
      throw new Error(`${doc}: ${blocks.length} ts blocks hold "${marker}"`);
    return blocks[0];
  };
  /** A snippet's own `import` lines, and the rest. */
  const split = (code: string): [string, string] => {
    const lines = code.split('\n');
    const imports = lines.filter((line) => line.startsWith('import '));
    const rest = lines.filter((line) => !line.startsWith('import '));
    return [imports.join('\n'), rest.join('\n')];
  };
  const cases: Record<string, () => string> = {
    'auth options (docs/auth-and-throttling.md)': () =>
      `import { HalProblemModule } from 'nestjs-hal-problem';
${snippet('docs/auth-and-throttling.md', 'secretOrKey: process.env.JWT_SECRET')}`,
    'keysByIssuer with jwksKeyProvider (docs/auth-and-throttling.md)': () =>
      `import { JwksClient } from 'jwks-rsa';
import { type HalProblemModuleOptions, jwksFetcher, jwksKeyProvider } from 'nestjs-hal-problem';
export const options: HalProblemModuleOptions = {
${snippet('docs/auth-and-throttling.md', 'keysByIssuer: {')}
};`,
    'jwksKeyProvider over JwksClient (docs/auth-and-throttling.md)': () => {
      const [imports, rest] = split(
        snippet('docs/auth-and-throttling.md', "from 'jwks-rsa'"),
      );
      return `${imports}
import type { JwtAuthOptions } from 'nestjs-hal-problem';
export const auth: Partial<JwtAuthOptions> = {
${rest}
};`;
    },
    'jwksFetcher options (docs/auth-and-throttling.md)': () =>
      `import { JwksClient } from 'jwks-rsa';
import { jwksFetcher } from 'nestjs-hal-problem';
export const client = new JwksClient({
  jwksUri: 'https://login.example/jwks.json',
${snippet('docs/auth-and-throttling.md', 'fetcher: jwksFetcher({')}
});`,
    'operations.leaseMs (docs/hal.md)': () =>
      `import { HalProblemModule } from 'nestjs-hal-problem';
export const module = ${snippet('docs/hal.md', 'operations: { leaseMs')}`,
    'enhance problemResponses (docs/openapi.md)': () =>
      `import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { HalProblemOpenApi } from 'nestjs-hal-problem';
export function document(app: INestApplication): object {
  const config = new DocumentBuilder().build();
  return ${snippet('docs/openapi.md', 'problemResponses:')}
}`,
    'HalAwareSerializer (docs/hal.md)': () =>
      `import {
  ClassSerializerInterceptor,
  type ClassSerializerContextOptions,
  Injectable,
  type PlainLiteralObject,
} from '@nestjs/common';
import { HalPage, Operation } from 'nestjs-hal-problem';
${snippet('docs/hal.md', 'class HalAwareSerializer')}`,
  };
  const results: Record<string, string[]> = {};
  beforeAll(() => {
    // One program for every snippet found; a snippet not found fails its own case.
    const sources: Record<string, string> = {};
    Object.entries(cases).forEach(([name, source], index) => {
      try {
        sources[`snippet-${index}`] = source();
      } catch (error) {
        results[name] = [String(error)];
      }
    });
    const checked = typeCheck(sources);
    Object.keys(cases).forEach((name, index) => {
      results[name] ??= checked[`snippet-${index}`];
    });
  });
  it.each(Object.keys(cases))('%s type-checks', (name) => {
    expect(results[name]).toEqual([]);
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
