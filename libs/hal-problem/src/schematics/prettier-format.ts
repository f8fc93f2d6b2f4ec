import { createRequire } from 'node:module';
import { join } from 'node:path';

interface Prettier {
  resolveConfig(path: string): Promise<Record<string, unknown> | null>;
  format(text: string, options: Record<string, unknown>): Promise<string>;
}

/**
 * Formats generated code with the project's own Prettier and configuration,
 * when it has both, so it matches the project's style; else the code stays
 * as written (which is Prettier's style with single quotes).
 */
export async function formatWithProjectPrettier(
  path: string,
  content: string,
): Promise<string> {
  const root = process.cwd();
  let prettier: Prettier;
  try {
    // Resolved from the project, not from this package: the project's version and plugins.
    prettier = createRequire(join(root, 'package.json'))(
      'prettier',
    ) as Prettier;
  } catch {
    return content;
  }
  const file = join(root, path);
  try {
    const config = await prettier.resolveConfig(file);
    if (!config) return content;
    return await prettier.format(content, { ...config, filepath: file });
  } catch {
    return content;
  }
}
