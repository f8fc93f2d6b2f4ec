/**
 * The parts of an `@angular-devkit/schematics` Tree and context that the
 * factories use. The Nest CLI runs schematics with its own copy of the devkit
 * and hands its Tree to the rule, so typing the rules structurally keeps the
 * devkit out of the library's runtime dependencies.
 */
export interface SchematicTree {
  exists(path: string): boolean;
  read(path: string): Buffer | null;
  create(path: string, content: string): void;
  overwrite(path: string, content: string): void;
  getDir(path: string): { readonly subfiles: readonly string[] };
}

export interface SchematicContext {
  readonly logger: {
    info(message: string): void;
    warn(message: string): void;
  };
}

export type SchematicRule = (
  tree: SchematicTree,
  context: SchematicContext,
) => SchematicTree | void;

/** A mistake in the options or the project that the user must fix; the CLI prints its message. */
export class ScaffoldingError extends Error {
  override readonly name = 'ScaffoldingError';
}
