import type { WorkspaceOptions } from '../workspace';

/** Options of `nest add nestjs-hal-problem` (see schema.json). */
export interface NestAddOptions extends WorkspaceOptions {
  /** The root module, relative to the source root. Default: the module main.ts bootstraps, else app.module.ts. */
  module?: string;
  /** Prefix of problem type URIs, e.g. https://api.example.com/problems/. */
  problemTypeBaseUri?: string;
  /** `instance` as the request path or a fresh urn:uuid. */
  instance?: 'request-path' | 'urn-uuid';
  /** Install the validation pipe (class-validator → 400 problems). Default true. */
  validation?: boolean;
  /** Register the module globally. */
  isGlobal?: boolean;
  /** Bearer JWT auth: needs issuer and audience; the key comes from JWT_SECRET. */
  auth?: boolean;
  realm?: string;
  issuer?: string;
  audience?: string;
  /** Leave package.json as it is. */
  skipPackageJson?: boolean;
}
