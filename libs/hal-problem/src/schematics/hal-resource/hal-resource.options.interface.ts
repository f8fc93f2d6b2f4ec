import type { WorkspaceOptions } from '../workspace';

/** Options of `nest g -c nestjs-hal-problem hal-resource <name>` (see schema.json). */
export interface HalResourceOptions extends WorkspaceOptions {
  /** The resource, plural: `orders`, `purchase-orders`. */
  name: string;
  /** A folder under the source root to write into. */
  path?: string;
  /** Write the files into the folder itself, not into a folder named after the resource. */
  flat?: boolean;
  /** Write specs (default true). */
  spec?: boolean;
  /** The spec file suffix (default `spec`). */
  specFileSuffix?: string;
  /** Document with @nestjs/swagger (`@ApiProperty`, `@ApiHalResponse`, `@ApiProblemResponses`). Default: when the project depends on it. */
  openapi?: boolean;
  /** Do not add the new module to the nearest module's imports. */
  skipImport?: boolean;
}
