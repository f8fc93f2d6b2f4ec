import fc from 'fast-check';
import * as ts from 'typescript';
import { addHalRelation, addToModuleImports } from './module-imports';

const EDIT = {
  symbol: 'HalProblemModule',
  from: 'nestjs-hal-problem',
  element: 'HalProblemModule.forRoot({\n  validation: true,\n})',
};

/** A root module in one of the many shapes people write them in. */
const moduleSource = fc
  .record({
    existing: fc.array(
      fc.constantFrom('ConfigModule', 'UsersModule.forRoot()', '...shared'),
      {
        maxLength: 3,
      },
    ),
    hasImports: fc.boolean(),
    multiline: fc.boolean(),
    trailingComma: fc.boolean(),
    before: fc.constantFrom('', '  controllers: [AppController],\n'),
    after: fc.constantFrom('', '  providers: [AppService],\n'),
    importsLibrary: fc.constantFrom('none', 'other', 'type-only'),
    indent: fc.constantFrom('  ', '    '),
  })
  .map((shape) => {
    const { existing, indent } = shape;
    let imports = '';
    if (shape.hasImports) {
      const list = shape.multiline
        ? existing.length
          ? `[\n${existing.map((e) => `${indent}${indent}${e}`).join(',\n')}${shape.trailingComma ? ',' : ''}\n${indent}]`
          : '[]'
        : `[${existing.join(', ')}]`;
      imports = `${indent}imports: ${list},\n`;
    }
    const library = {
      none: '',
      other: "import { ProblemException } from 'nestjs-hal-problem';\n",
      'type-only': "import type { HalContext } from 'nestjs-hal-problem';\n",
    }[shape.importsLibrary];
    const body =
      (shape.before + imports + shape.after).replace(/^ {2}/gm, indent) || '';
    return {
      shape,
      text: `import { Module } from '@nestjs/common';\n${library}const shared = [];\n\n@Module({${body ? `\n${body}` : ''}})\nexport class AppModule {}\n`,
    };
  });

function parse(text: string) {
  const source = ts.createSourceFile(
    'app.module.ts',
    text,
    ts.ScriptTarget.Latest,
    true,
  );
  const syntaxErrors = (source as unknown as { parseDiagnostics: unknown[] })
    .parseDiagnostics;
  let imports: string[] | undefined;
  const visit = (node: ts.Node): void => {
    if (
      ts.isPropertyAssignment(node) &&
      node.name.getText(source) === 'imports' &&
      ts.isArrayLiteralExpression(node.initializer)
    ) {
      imports = node.initializer.elements.map((e) => e.getText(source));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  const specifiers = source.statements
    .filter(ts.isImportDeclaration)
    .flatMap((d) => {
      const bindings = d.importClause?.namedBindings;
      return bindings &&
        ts.isNamedImports(bindings) &&
        !d.importClause?.isTypeOnly
        ? bindings.elements.map((e) => e.name.text)
        : [];
    });
  return { syntaxErrors, imports: imports ?? [], specifiers };
}

describe('addToModuleImports (property)', () => {
  it('keeps the module valid and its imports, adds the element and the import once, and is idempotent', () => {
    fc.assert(
      fc.property(moduleSource, ({ shape, text }) => {
        const once = addToModuleImports('app.module.ts', text, EDIT);
        expect(once.changed).toBe(true);
        const parsed = parse(once.text);
        expect(parsed.syntaxErrors).toEqual([]);
        const kept = shape.hasImports ? shape.existing : [];
        expect(parsed.imports.slice(0, kept.length)).toEqual(kept);
        expect(parsed.imports).toHaveLength(kept.length + 1);
        expect(parsed.imports.at(-1)?.replace(/\s+/g, '')).toBe(
          EDIT.element.replace(/\s+/g, ''),
        );
        expect(
          parsed.specifiers.filter((s) => s === 'HalProblemModule'),
        ).toHaveLength(1);
        expect(addToModuleImports('app.module.ts', once.text, EDIT)).toEqual({
          text: once.text,
          changed: false,
        });
      }),
      { numRuns: 300 },
    );
  });

  it('registers a relation once, whatever forRoot() holds', () => {
    const forRoot = fc.constantFrom(
      'HalProblemModule.forRoot()',
      'HalProblemModule.forRoot({})',
      'HalProblemModule.forRoot({ validation: true })',
      "HalProblemModule.forRoot({\n      hal: { relations: ['orders'] },\n    })",
      'HalProblemModule.forRoot({ hal: { trustProxy: true } })',
      'HalProblemModule.forRoot({ hal: { relations: [] }, })',
    );
    fc.assert(
      fc.property(
        forRoot,
        fc.constantFrom('orders', 'invoices'),
        (call, rel) => {
          const text = `@Module({\n  imports: [\n    ${call},\n  ],\n})\nexport class AppModule {}\n`;
          const once = addHalRelation('app.module.ts', text, rel);
          expect(once).toBeDefined();
          const after = once!.text;
          expect(parse(after).syntaxErrors).toEqual([]);
          expect(after.split(`'${rel}'`)).toHaveLength(2);
          expect(addHalRelation('app.module.ts', after, rel)).toEqual({
            text: after,
            changed: false,
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('keeps comments inside empty imports and an empty forRoot', () => {
    const text =
      '@Module({\n  imports: [\n    // OrdersModule,\n  ],\n})\nexport class AppModule {}\n';
    const once = addToModuleImports('app.module.ts', text, EDIT).text;
    expect(once).toContain('    // OrdersModule,\n');
    expect(parse(once).imports).toHaveLength(1);
    const relation = addHalRelation(
      'app.module.ts',
      '@Module({ imports: [HalProblemModule.forRoot({ /* later */ })] })\nclass A {}\n',
      'orders',
    );
    expect(parse(relation?.text ?? '').syntaxErrors).toEqual([]);
    expect(relation?.text).toContain(
      "forRoot({ hal: { relations: ['orders'] } /* later */ })",
    );
  });

  it('leaves options it cannot see through to the user: spreads and shorthands', () => {
    for (const options of [
      '{ ...base }',
      '{ validation: true, ...base }',
      '{ hal }',
      '{ hal: { ...halOptions } }',
      '{ hal: { relations } }',
    ]) {
      expect(
        addHalRelation(
          'app.module.ts',
          `@Module({ imports: [HalProblemModule.forRoot(${options})] })\nclass A {}\n`,
          'orders',
        ),
      ).toBeUndefined();
    }
  });

  it('leaves forRootAsync and option variables to the user', () => {
    expect(
      addHalRelation(
        'app.module.ts',
        '@Module({ imports: [HalProblemModule.forRootAsync({ useFactory: () => ({}) })] })\nclass A {}\n',
        'orders',
      ),
    ).toBeUndefined();
    expect(
      addHalRelation(
        'app.module.ts',
        '@Module({ imports: [HalProblemModule.forRoot(options)] })\nclass A {}\n',
        'orders',
      ),
    ).toBeUndefined();
  });
});
