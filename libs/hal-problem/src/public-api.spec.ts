import { join } from 'node:path';
import ts from 'typescript';

/**
 * The public API is the barrel only: named exports, each with a JSDoc line,
 * and none of the module's internal tokens.
 */
describe('the public API (index.ts)', () => {
  const index = join(__dirname, 'index.ts');
  const program = ts.createProgram([index], {
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(index)!;
  const exports = checker.getExportsOfModule(
    checker.getSymbolAtLocation(source)!,
  );

  it('has no default export', () => {
    expect(exports.map((symbol) => symbol.getName())).not.toContain('default');
  });

  it('documents every export with JSDoc', () => {
    const undocumented = exports
      .filter((symbol) => {
        const target =
          symbol.flags & ts.SymbolFlags.Alias
            ? checker.getAliasedSymbol(symbol)
            : symbol;
        return (
          ts
            .displayPartsToString(target.getDocumentationComment(checker))
            .trim() === ''
        );
      })
      .map((symbol) => symbol.getName())
      .sort();
    expect(undocumented).toEqual([]);
  });

  it('exports the constants an app configures its platform with', () => {
    const names = exports.map((symbol) => symbol.getName());
    for (const constant of [
      'HAL_CONTENT_TYPE',
      'PROBLEM_CONTENT_TYPE',
      'HAL_PROBLEM_EXPOSED_HEADERS',
    ])
      expect(names).toContain(constant);
  });

  it('keeps internal tokens internal', () => {
    const names = exports.map((symbol) => symbol.getName());
    for (const internal of [
      'HAL_PROBLEM_MODULE_OPTIONS',
      'HalProblemConfigurableModule',
      'ProblemConfig',
      'HalConfig',
      'HAL_LINKS_METADATA',
    ]) {
      expect(names).not.toContain(internal);
    }
  });
});
