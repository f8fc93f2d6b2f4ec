import {
  Injectable,
  type OnApplicationBootstrap,
  RequestMethod,
  type Type,
  VERSION_NEUTRAL,
  VersioningType,
} from '@nestjs/common';
import {
  METHOD_METADATA,
  PATH_METADATA,
  VERSION_METADATA,
} from '@nestjs/common/constants';
import {
  ApplicationConfig,
  DiscoveryService,
  MetadataScanner,
  Reflector,
} from '@nestjs/core';
import { pathToRegexp } from 'path-to-regexp';

interface IndexedRoute {
  readonly path: string;
  readonly method: string;
  readonly pattern: RegExp;
}

const ALL_METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
];

function joinPath(...segments: string[]): string {
  const joined = segments
    .map((segment) => segment.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/');
  return `/${joined}`;
}

function asList<T>(value: T | readonly T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? [...(value as T[])] : [value as T];
}

/**
 * Every route of the app, global prefix and URI versioning included, built
 * once at bootstrap from Nest's discovery of controllers. Express and Fastify
 * both answer a known path with an unserved method as 404; the exception
 * filter asks this index to answer 405 with `Allow` instead.
 */
@Injectable()
export class RouteIndex implements OnApplicationBootstrap {
  private routes: IndexedRoute[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly appConfig: ApplicationConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.routes = this.build();
  }

  /**
   * What is served at `path`: `served` holds the methods of its routes (with
   * `HEAD` wherever `GET` is, as both platforms answer it), `allow` adds
   * `OPTIONS`, for the `Allow` header. Both are empty when no route matches.
   */
  lookup(path: string): {
    served: ReadonlySet<string>;
    allow: readonly string[];
  } {
    const served = new Set<string>();
    for (const route of this.routes) {
      if (!route.pattern.test(path)) continue;
      if (route.method === 'ALL')
        return { served: new Set(ALL_METHODS), allow: ALL_METHODS };
      served.add(route.method);
    }
    if (served.size === 0) return { served, allow: [] };
    if (served.has('GET')) served.add('HEAD');
    const allowed = new Set([...served, 'OPTIONS']);
    const allow = ALL_METHODS.filter((method) => allowed.has(method)).concat(
      [...allowed].filter((method) => !ALL_METHODS.includes(method)).sort(),
    );
    return { served, allow };
  }

  private build(): IndexedRoute[] {
    const routes: IndexedRoute[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const instance = wrapper.instance as object | undefined;
      const metatype = wrapper.metatype as Type | null | undefined;
      if (!instance || !metatype) continue;
      const controllerPaths = asList(
        this.reflector.get<string | string[]>(PATH_METADATA, metatype),
      );
      const controllerVersion = this.reflector.get<unknown>(
        VERSION_METADATA,
        metatype,
      );
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = (prototype as Record<string, unknown>)[name];
        if (typeof handler !== 'function') continue;
        const requestMethod = this.reflector.get<RequestMethod | undefined>(
          METHOD_METADATA,
          handler,
        );
        const methodPaths = this.reflector.get<string | string[] | undefined>(
          PATH_METADATA,
          handler,
        );
        if (requestMethod === undefined || methodPaths === undefined) continue;
        const version =
          this.reflector.get<unknown>(VERSION_METADATA, handler) ??
          controllerVersion;
        const method = RequestMethod[requestMethod] ?? 'ALL';
        for (const controllerPath of controllerPaths.length
          ? controllerPaths
          : ['/']) {
          for (const methodPath of asList(methodPaths)) {
            for (const versionSegment of this.versionSegments(version)) {
              const path = this.withGlobalPrefix(
                versionSegment,
                joinPath(controllerPath, methodPath),
                method,
              );
              const pattern = this.compile(path);
              if (pattern) routes.push({ path, method, pattern });
            }
          }
        }
      }
    }
    return routes;
  }

  private versionSegments(version: unknown): string[] {
    const versioning = this.appConfig.getVersioning();
    if (!versioning || versioning.type !== VersioningType.URI) return [''];
    const versions = asList(version ?? versioning.defaultVersion);
    if (versions.length === 0) return [''];
    const prefix =
      versioning.prefix === false ? '' : (versioning.prefix ?? 'v');
    return versions.map((item) =>
      item === VERSION_NEUTRAL ? '' : `${prefix}${String(item as string)}`,
    );
  }

  /** As Nest does, exclusions are matched against the path without its version segment. */
  private withGlobalPrefix(
    versionSegment: string,
    path: string,
    method: string,
  ): string {
    const prefix = this.appConfig.getGlobalPrefix();
    if (!prefix) return joinPath(versionSegment, path);
    const excluded = this.appConfig.getGlobalPrefixOptions().exclude ?? [];
    const isExcluded = excluded.some((route) => {
      route.pathRegex.lastIndex = 0;
      return (
        route.pathRegex.test(path) &&
        (route.requestMethod === RequestMethod.ALL ||
          RequestMethod[route.requestMethod] === method)
      );
    });
    return isExcluded
      ? joinPath(versionSegment, path)
      : joinPath(prefix, versionSegment, path);
  }

  private compile(path: string): RegExp | undefined {
    try {
      return pathToRegexp(path, { sensitive: false, trailing: true }).regexp;
    } catch {
      // A path syntax this index does not understand only loses its 405.
      return undefined;
    }
  }
}
