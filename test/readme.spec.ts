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
