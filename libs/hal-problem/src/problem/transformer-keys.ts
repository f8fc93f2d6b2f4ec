import { createRequire } from 'node:module';
import {
  TransformationType,
  type ClassTransformOptions,
} from 'class-transformer';

/** The part of class-transformer's metadata storage read here. */
interface TransformerStorage {
  findTransformMetadatas(
    target: object,
    propertyName: string,
    transformationType: TransformationType,
  ): readonly unknown[];
  getExposedMetadatas(target: object): readonly unknown[];
  getExcludedMetadatas(target: object): readonly unknown[];
  getStrategy(target: object): string;
}

let storage: TransformerStorage | null | undefined;

/**
 * class-transformer's own metadata storage, as `@nestjs/mapped-types`
 * reads it: class-transformer exports no API to ask whether a class renames,
 * excludes or transforms a key, and the early checks of the validation pipe
 * are right only when it does none of these. A path inside the package, so
 * read defensively: null when it cannot be loaded (another layout, another
 * copy), and then nothing is read early; the pipe validates as Nest does.
 */
function transformerStorage(): TransformerStorage | null {
  if (storage === undefined) {
    try {
      storage = (
        createRequire(__filename)('class-transformer/cjs/storage') as {
          defaultMetadataStorage: TransformerStorage;
        }
      ).defaultMetadataStorage;
    } catch {
      storage = null;
    }
  }
  return storage;
}

/**
 * Whether class-transformer gives an instance of `type` each key of a
 * plain object under the same name: no `@Expose` or `@Exclude` on the class
 * or its properties (a renamed property is read from another key; one that
 * is not exposed is not read at all) and no `excludeExtraneousValues` or
 * `excludeAll` strategy (keys that are no property are dropped, not kept).
 * Only then is a key of the body what class-validator will see.
 */
export function keepsKeysAsSent(
  type: object,
  options: ClassTransformOptions | undefined,
): boolean {
  const metadata = transformerStorage();
  return (
    metadata !== null &&
    options?.excludeExtraneousValues !== true &&
    options?.strategy !== 'excludeAll' &&
    metadata.getStrategy(type) === 'none' &&
    metadata.getExposedMetadatas(type).length === 0 &&
    metadata.getExcludedMetadatas(type).length === 0
  );
}

/** Whether a `@Transform` rewrites `property` of `type` on its way in (a dedup, a split). */
export function transformsOnTheWayIn(type: object, property: string): boolean {
  const metadata = transformerStorage();
  return (
    metadata === null ||
    metadata.findTransformMetadatas(
      type,
      property,
      TransformationType.PLAIN_TO_CLASS,
    ).length > 0
  );
}
