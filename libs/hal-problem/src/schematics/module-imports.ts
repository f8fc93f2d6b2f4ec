import { createRequire } from 'node:module';
import type * as TypeScript from 'typescript';
import { ScaffoldingError } from './schematic-tree.interface';

// The compiler parses the module file, so edits land in the right places
// whatever its layout. Every Nest CLI project has `typescript` (the CLI
// depends on it), so it is an optional peer rather than a dependency.
const requireOptional = createRequire(__filename);

function loadTypeScript(): typeof TypeScript {
  try {
    return requireOptional('typescript') as typeof TypeScript;
  } catch {
    throw new ScaffoldingError(
      'The nestjs-hal-problem schematics need the typescript package in the project (npm install -D typescript).',
    );
  }
}

function parse(
  fileName: string,
  text: string,
): { ts: typeof TypeScript; source: TypeScript.SourceFile } {
  const ts = loadTypeScript();
  const source = ts.createSourceFile(
    fileName,
    text,
    ts.ScriptTarget.Latest,
    true,
    ts.ScriptKind.TS,
  );
  return { ts, source };
}

/** What to add to a `@Module({ imports: [...] })`, and the import it needs. */
export interface ModuleImportEdit {
  /** The symbol imported, e.g. `HalProblemModule`. */
  readonly symbol: string;
  /** Where it comes from, e.g. `nestjs-hal-problem` or `./orders/orders.module.js`. */
  readonly from: string;
  /** The element written into `imports`, e.g. `HalProblemModule.forRoot({...})`; may span lines. */
  readonly element: string;
}

export interface ModuleImportResult {
  readonly text: string;
  /** False when the module already imported the symbol: nothing was changed. */
  readonly changed: boolean;
}

interface TextEdit {
  readonly at: number;
  readonly end?: number;
  readonly insert: string;
}

function apply(text: string, edits: readonly TextEdit[]): string {
  return [...edits]
    .sort((a, b) => b.at - a.at)
    .reduce(
      (result, edit) =>
        result.slice(0, edit.at) +
        edit.insert +
        result.slice(edit.end ?? edit.at),
      text,
    );
}

/**
 * Fills an empty `{}` or `[]` spanning `start`–`end`: `content` then `close`
 * replace what is inside when that is only whitespace; when it holds
 * comments, `content` goes right after the opening bracket and they stay.
 */
function fillEmpty(
  text: string,
  start: number,
  end: number,
  content: string,
  close: string,
): TextEdit {
  const inside = text.slice(start + 1, end - 1);
  return inside.trim() === ''
    ? { at: start + 1, end: end - 1, insert: content + close }
    : { at: start + 1, insert: content };
}

/** The whitespace that starts the line holding `position`. */
function indentAt(text: string, position: number): string {
  const lineStart = text.lastIndexOf('\n', position - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))?.[0] ?? '';
}

/** Indents every line of a multi-line element but the first. */
function indentLines(element: string, indent: string): string {
  return element.replace(/\n/g, `\n${indent}`);
}

/**
 * Adds `edit.element` to the `imports` of the file's `@Module()` class and
 * `import { symbol } from 'from'` to the file, keeping its layout. Running it
 * again changes nothing: a module whose `imports` already names the symbol is
 * left as it is.
 */
export function addToModuleImports(
  fileName: string,
  text: string,
  edit: ModuleImportEdit,
): ModuleImportResult {
  const { ts, source } = parse(fileName, text);
  const metadata = findModuleMetadata(ts, source);
  if (!metadata) {
    throw new ScaffoldingError(
      `${fileName} has no class decorated with @Module({ ... }); add ${edit.element.split('\n')[0]} to your root module's imports by hand.`,
    );
  }
  const importsProperty = metadata.properties.find(
    (property): property is TypeScript.PropertyAssignment =>
      ts.isPropertyAssignment(property) &&
      property.name.getText(source) === 'imports',
  );
  const mentions = (node: TypeScript.Node): boolean =>
    (ts.isIdentifier(node) && node.text === edit.symbol) ||
    ts.forEachChild(node, mentions) === true;
  if (importsProperty && mentions(importsProperty.initializer)) {
    return { text, changed: false };
  }

  const edits: TextEdit[] = [
    moduleElementEdit(ts, source, metadata, importsProperty, edit),
  ];
  const importEdit = importDeclarationEdit(ts, source, edit);
  if (importEdit) edits.push(importEdit);
  return { text: apply(text, edits), changed: true };
}

function findModuleMetadata(
  ts: typeof TypeScript,
  source: TypeScript.SourceFile,
): TypeScript.ObjectLiteralExpression | undefined {
  for (const statement of source.statements) {
    if (!ts.isClassDeclaration(statement)) continue;
    for (const decorator of ts.getDecorators(statement) ?? []) {
      const call = decorator.expression;
      if (
        ts.isCallExpression(call) &&
        ts.isIdentifier(call.expression) &&
        call.expression.text === 'Module' &&
        call.arguments.length > 0 &&
        ts.isObjectLiteralExpression(call.arguments[0])
      ) {
        return call.arguments[0];
      }
    }
  }
  return undefined;
}

function moduleElementEdit(
  ts: typeof TypeScript,
  source: TypeScript.SourceFile,
  metadata: TypeScript.ObjectLiteralExpression,
  importsProperty: TypeScript.PropertyAssignment | undefined,
  edit: ModuleImportEdit,
): TextEdit {
  const text = source.text;
  if (!importsProperty) {
    // No imports yet: add the property first, indented like its siblings.
    const first = metadata.properties[0];
    const indent = first
      ? indentAt(text, first.getStart(source))
      : `${indentAt(text, metadata.getStart(source))}  `;
    const element = indentLines(edit.element, `${indent}  `);
    return first
      ? {
          at: first.getStart(source),
          insert: `imports: [\n${indent}  ${element},\n${indent}],\n${indent}`,
        }
      : fillEmpty(
          text,
          metadata.getStart(source),
          metadata.getEnd(),
          `\n${indent}imports: [\n${indent}  ${element},\n${indent}],`,
          `\n${indent.slice(2)}`,
        );
  }
  const array = importsProperty.initializer;
  if (!ts.isArrayLiteralExpression(array)) {
    throw new ScaffoldingError(
      `The module's imports are not an array literal (${array.getText(source)}); add ${edit.element.split('\n')[0]} to them by hand.`,
    );
  }
  const propertyIndent = indentAt(text, importsProperty.getStart(source));
  const elements = array.elements;
  if (elements.length === 0) {
    const element = indentLines(edit.element, `${propertyIndent}  `);
    return fillEmpty(
      text,
      array.getStart(source),
      array.getEnd(),
      `\n${propertyIndent}  ${element},`,
      `\n${propertyIndent}`,
    );
  }
  const last = elements[elements.length - 1];
  const multiline = text
    .slice(array.getStart(source), array.getEnd())
    .includes('\n');
  if (!multiline) {
    return {
      at: last.getEnd(),
      insert: `, ${indentLines(edit.element, propertyIndent)}`,
    };
  }
  const elementIndent = indentAt(text, last.getStart(source));
  const element = indentLines(edit.element, elementIndent);
  return elements.hasTrailingComma
    ? { at: elements.end, insert: `\n${elementIndent}${element},` }
    : { at: last.getEnd(), insert: `,\n${elementIndent}${element}` };
}

function importDeclarationEdit(
  ts: typeof TypeScript,
  source: TypeScript.SourceFile,
  edit: ModuleImportEdit,
): TextEdit | undefined {
  const imports = source.statements.filter(ts.isImportDeclaration);
  for (const declaration of imports) {
    const specifier = declaration.moduleSpecifier;
    if (!ts.isStringLiteral(specifier) || specifier.text !== edit.from)
      continue;
    const bindings = declaration.importClause?.namedBindings;
    if (
      !bindings ||
      !ts.isNamedImports(bindings) ||
      declaration.importClause?.isTypeOnly
    ) {
      continue;
    }
    if (
      bindings.elements.some((element) => element.name.text === edit.symbol)
    ) {
      return undefined;
    }
    const last = bindings.elements[bindings.elements.length - 1];
    return last
      ? { at: last.getEnd(), insert: `, ${edit.symbol}` }
      : { at: bindings.getStart(source) + 1, insert: ` ${edit.symbol} ` };
  }
  const statement = `import { ${edit.symbol} } from '${edit.from}';`;
  const lastImport = imports[imports.length - 1];
  return lastImport
    ? { at: lastImport.getEnd(), insert: `\n${statement}` }
    : { at: 0, insert: `${statement}\n` };
}

/**
 * Adds `rel` to `hal.relations` of the file's `HalProblemModule.forRoot({...})`,
 * creating `hal` or `relations` when absent. `undefined` when the file has no
 * such call with an object literal (e.g. `forRootAsync`): the caller says
 * what to add by hand.
 */
export function addHalRelation(
  fileName: string,
  text: string,
  rel: string,
): ModuleImportResult | undefined {
  const { ts, source } = parse(fileName, text);
  let call: TypeScript.CallExpression | undefined;
  const visit = (node: TypeScript.Node): void => {
    if (
      !call &&
      ts.isCallExpression(node) &&
      node.expression.getText(source) === 'HalProblemModule.forRoot'
    ) {
      call = node;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  if (!call) return undefined;
  const literal = `'${rel}'`;
  const [options] = call.arguments;
  if (!options) {
    const at = call.arguments.pos;
    return {
      text: apply(text, [
        { at, insert: `{ hal: { relations: [${literal}] } }` },
      ]),
      changed: true,
    };
  }
  if (!ts.isObjectLiteralExpression(options)) return undefined;
  // `{ ...base }`, `{ hal }` or a computed key may hold relations this edit
  // cannot see: those are left to the user rather than overridden.
  type Found = TypeScript.PropertyAssignment | 'opaque' | undefined;
  const property = (
    object: TypeScript.ObjectLiteralExpression,
    name: string,
  ): Found => {
    if (object.properties.some((p) => ts.isSpreadAssignment(p)))
      return 'opaque';
    const named = object.properties.find(
      (p) =>
        p.name !== undefined &&
        (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) &&
        p.name.text === name,
    );
    if (!named) return undefined;
    return ts.isPropertyAssignment(named) ? named : 'opaque';
  };
  const appended = (
    object: TypeScript.ObjectLiteralExpression,
    added: string,
  ): ModuleImportResult => ({
    text: apply(text, [appendProperty(text, source, object, added)]),
    changed: true,
  });
  const hal = property(options, 'hal');
  if (hal === 'opaque') return undefined;
  if (!hal) return appended(options, `hal: { relations: [${literal}] }`);
  if (!ts.isObjectLiteralExpression(hal.initializer)) return undefined;
  const relations = property(hal.initializer, 'relations');
  if (relations === 'opaque') return undefined;
  if (!relations) return appended(hal.initializer, `relations: [${literal}]`);
  const array = relations.initializer;
  if (!ts.isArrayLiteralExpression(array)) return undefined;
  if (array.elements.some((e) => ts.isStringLiteralLike(e) && e.text === rel)) {
    return { text, changed: false };
  }
  const last = array.elements[array.elements.length - 1];
  const insert: TextEdit = last
    ? { at: last.getEnd(), insert: `, ${literal}` }
    : { at: array.getStart(source) + 1, insert: literal };
  return { text: apply(text, [insert]), changed: true };
}

/** A new last property of an object literal, on its own line when the object spans lines. */
function appendProperty(
  text: string,
  source: TypeScript.SourceFile,
  object: TypeScript.ObjectLiteralExpression,
  property: string,
): TextEdit {
  const last = object.properties[object.properties.length - 1];
  if (!last) {
    return fillEmpty(
      text,
      object.getStart(source),
      object.getEnd(),
      ` ${property}`,
      ' ',
    );
  }
  const multiline = text
    .slice(object.getStart(source), object.getEnd())
    .includes('\n');
  if (!multiline) {
    return object.properties.hasTrailingComma
      ? { at: object.properties.end, insert: ` ${property},` }
      : { at: last.getEnd(), insert: `, ${property}` };
  }
  const indent = indentAt(text, last.getStart(source));
  return object.properties.hasTrailingComma
    ? { at: object.properties.end, insert: `\n${indent}${property},` }
    : { at: last.getEnd(), insert: `,\n${indent}${property},` };
}
