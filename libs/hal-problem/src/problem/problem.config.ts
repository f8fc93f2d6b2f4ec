import { Inject, Injectable, type ValidationPipeOptions } from '@nestjs/common';
import type {
  HalProblemModuleOptions,
  ProblemErrorMapper,
  ProblemInstanceStyle,
} from '../hal-problem-module-options.interface';
import { HAL_PROBLEM_MODULE_OPTIONS } from '../hal-problem.module-definition';
import { isAbsoluteUri } from './problem-type';

export const DEFAULT_PROBLEM_TYPE_BASE_URI = 'urn:problem-type:';
export const DEFAULT_REQUEST_ID_HEADER = 'X-Request-Id';
export const DEFAULT_ACCEPTED_CONTENT_TYPES: readonly string[] = [
  'application/json',
  'application/*+json',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
];
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * The module options, checked and resolved once at bootstrap so that no
 * request pays for defaults or validation of the configuration.
 */
@Injectable()
export class ProblemConfig {
  readonly problemTypeBaseUri: string;
  readonly instance: ProblemInstanceStyle;
  /** As configured, for response headers. */
  readonly requestIdHeader: string;
  /** Lower-cased, for reading Node's request header map. */
  readonly requestIdHeaderKey: string;
  readonly validation: ValidationPipeOptions | false;
  readonly acceptedContentTypes: readonly string[];
  /** Reported in 413s whose error does not carry its limit (Fastify's). */
  get bodyLimit(): number | undefined {
    return this.configuredBodyLimit ?? this.enforcedBodyLimit;
  }
  private readonly configuredBodyLimit: number | undefined;
  private enforcedBodyLimit: number | undefined;
  readonly mapError: ProblemErrorMapper | undefined;

  constructor(
    @Inject(HAL_PROBLEM_MODULE_OPTIONS) options: HalProblemModuleOptions = {},
  ) {
    this.problemTypeBaseUri =
      options.problemTypeBaseUri ?? DEFAULT_PROBLEM_TYPE_BASE_URI;
    if (!isAbsoluteUri(this.problemTypeBaseUri)) {
      throw new Error(
        `HalProblemModule: problemTypeBaseUri must be an absolute URI, got "${this.problemTypeBaseUri}"`,
      );
    }
    this.instance = options.instance ?? 'request-path';
    if (this.instance !== 'request-path' && this.instance !== 'urn-uuid') {
      throw new Error(
        `HalProblemModule: instance must be "request-path" or "urn-uuid"`,
      );
    }
    this.requestIdHeader = options.requestIdHeader ?? DEFAULT_REQUEST_ID_HEADER;
    if (!HEADER_NAME.test(this.requestIdHeader)) {
      throw new Error(
        `HalProblemModule: requestIdHeader "${this.requestIdHeader}" is not a header name`,
      );
    }
    this.requestIdHeaderKey = this.requestIdHeader.toLowerCase();
    const validation = options.validation ?? true;
    this.validation =
      validation === false
        ? false
        : {
            whitelist: true,
            forbidNonWhitelisted: true,
            transform: true,
            ...(validation === true ? {} : validation),
          };
    this.acceptedContentTypes = (
      options.acceptedContentTypes ?? DEFAULT_ACCEPTED_CONTENT_TYPES
    ).map((type) => type.toLowerCase());
    this.configuredBodyLimit = options.bodyLimit;
    this.mapError = options.mapError;
  }

  /**
   * The limit `useStrictBodyParsing` enforces: what a 413 reports when the
   * module's `bodyLimit` option does not say otherwise.
   */
  reportEnforcedBodyLimit(limit: number): void {
    this.enforcedBodyLimit = limit;
  }
}
