import { Inject, Injectable } from '@nestjs/common';
import type { HalProblemModuleOptions } from '../hal-problem-module-options.interface';
import { HAL_PROBLEM_MODULE_OPTIONS } from '../hal-problem.module-definition';
import { ProblemConfig } from './problem.config';
import { declaredProblemTypes, type ProblemType } from './problem-type';

/** A problem type as the catalog lists it, with its resolved `type` URI. */
export interface ProblemTypeEntry {
  readonly type: string;
  readonly slug: string;
  readonly title: string;
  readonly status: number;
  readonly description?: string;
}

/**
 * Every problem type the app can produce, with its resolved URI: the source
 * for documentation pages and for the OpenAPI document.
 */
@Injectable()
export class ProblemTypeCatalog {
  private readonly extraTypes: readonly ProblemType[];

  constructor(
    private readonly config: ProblemConfig,
    @Inject(HAL_PROBLEM_MODULE_OPTIONS) options: HalProblemModuleOptions = {},
  ) {
    this.extraTypes = options.problemTypes ?? [];
  }

  /** The `type` URI of a declared type. */
  uriOf(type: ProblemType): string {
    return type.uri ?? `${this.config.problemTypeBaseUri}${type.slug}`;
  }

  /** All known types, sorted by status then slug. */
  list(): ProblemTypeEntry[] {
    const bySlug = new Map<string, ProblemType>();
    for (const type of [...declaredProblemTypes(), ...this.extraTypes])
      bySlug.set(type.slug, type);
    return [...bySlug.values()]
      .map((type) => ({
        type: this.uriOf(type),
        slug: type.slug,
        title: type.title,
        status: type.status,
        ...(type.description === undefined
          ? {}
          : { description: type.description }),
      }))
      .sort((a, b) => a.status - b.status || a.slug.localeCompare(b.slug));
  }

  /** The entry of one slug, if known. */
  find(slug: string): ProblemTypeEntry | undefined {
    return this.list().find((entry) => entry.slug === slug);
  }
}
