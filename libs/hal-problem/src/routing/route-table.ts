import {
  type HttpServer,
  Injectable,
  type OnApplicationBootstrap,
  RequestMethod,
  type Type,
  VERSION_NEUTRAL,
  VersioningType,
} from '@nestjs/common';
import {
  METHOD_METADATA,
  MODULE_PATH,
  PATH_METADATA,
  ROUTE_ARGS_METADATA,
  VERSION_METADATA,
} from '@nestjs/common/constants';
import {
  ApplicationConfig,
  DiscoveryService,
  HttpAdapterHost,
  MetadataScanner,
  ModulesContainer,
  Reflector,
} from '@nestjs/core';
import { getMetadataStorage } from 'class-validator';
import { parse, pathToRegexp, type Token } from 'path-to-regexp';
import {
  compileUriTemplate,
  encodeReserved,
  type TemplateValues,
} from '../hal/uri-template';

/** One route of the app, as served: global prefix and version included. */
export interface RouteEntry {
  readonly controller: Type;
  readonly handlerName: string;
  readonly method: string;
  /** The full path in Nest's syntax, e.g. `/api/v1/orders/:id`. */
  readonly path: string;
  /** The same path as an RFC 6570 template, e.g. `/api/v1/orders/{id}`. */
  readonly template: string;
  readonly pathParams: readonly string[];
  /** Path parameters that take the rest of the path (`*path`): `{/path*}` in the template. */
  readonly wildcards: readonly string[];
  /** Query parameters the handler declares (`@Query('x')`, or the properties of a `@Query()` DTO). */
  readonly queryParams: readonly string[];
  readonly pattern: RegExp | undefined;
  /** The URI version segment (`v2`), empty without URI versioning or for `VERSION_NEUTRAL`. */
  readonly version: string;
}

/** Nest's `RouteMatchingOptions`, which `@nestjs/common` does not export by name. */
type RouteMatchingOptions = ReturnType<
  NonNullable<HttpServer['getRouteMatchingOptions']>
>;

const ALL_METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
];
const QUERY_PARAMTYPE = '4'; // RouteParamtypes.QUERY, the prefix of its ROUTE_ARGS_METADATA keys

function joinPath(...segments: string[]): string {
  const joined = segments
    .map((segment) => segment.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/');
  return `/${joined}`;
}

/**
 * The path as Fastify's router matches it: `decodeURI`, which leaves the
 * escapes of reserved characters (`%2F`, `%3F`...) as they are, with `%25`
 * kept too, so that no decoding makes an escape of its own. A path that does
 * not decode is a 400 from Fastify before any route is looked up.
 */
function decodedAsRouted(path: string): string {
  if (!path.includes('%')) return path;
  try {
    return decodeURI(path.replace(/%25/g, '%2525'));
  } catch {
    return path;
  }
}

const REPEATED_SLASHES = /\/{2,}/g;

/**
 * A `:param`'s length as find-my-way measures it for `maxParamLength`: fully
 * decoded (`%2F` is one character), where the path it was matched in keeps
 * the escapes of reserved characters (`decodedAsRouted`).
 */
function paramLength(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!value.includes('%')) return value.length;
  try {
    return decodeURIComponent(value).length;
  } catch {
    return value.length;
  }
}

/**
 * Whether a Fastify instance was created with `ignoreDuplicateSlashes`, at
 * the top level or under `routerOptions` (Fastify 5), as Nest's adapter reads
 * its other router options.
 */
function ignoresDuplicateSlashes(instance: unknown): boolean {
  const config = (
    instance as
      | {
          initialConfig?: {
            ignoreDuplicateSlashes?: boolean;
            routerOptions?: { ignoreDuplicateSlashes?: boolean };
          };
        }
      | undefined
  )?.initialConfig;
  // `||`, as Nest's getRouteMatchingOptions reads the others: Fastify fills
  // initialConfig.routerOptions with defaults (false) for what it was not
  // given, while its router still takes the top-level option there.
  return !!(
    config?.routerOptions?.ignoreDuplicateSlashes ||
    config?.ignoreDuplicateSlashes
  );
}

/**
 * Whether a Fastify instance answers `HEAD` from its `GET` routes: it does
 * unless created with `exposeHeadRoutes: false`. Express always does.
 */
function exposesHeadRoutes(instance: unknown): boolean {
  const config = (
    instance as { initialConfig?: { exposeHeadRoutes?: boolean } } | undefined
  )?.initialConfig;
  return config?.exposeHeadRoutes !== false;
}

function asList<T>(value: T | readonly T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? [...(value as T[])] : [value as T];
}

/**
 * The values of a route's link with each wildcard given as its segments:
 * a string `x/y` (a resource's path) expands as `/x/y`, as a list does,
 * not as one segment `/x%2Fy`. Other values are read through the prototype.
 */
export function withWildcardSegments(
  source: Readonly<Record<string, unknown>>,
  wildcards: readonly string[],
): Readonly<Record<string, unknown>> {
  const values = Object.create(source) as Record<string, unknown>;
  for (const name of wildcards) {
    const value = source[name];
    if (typeof value === 'string')
      values[name] = value.split('/').filter((segment) => segment !== '');
  }
  return values;
}

/** A path variable a route cannot do without (`{id}`, `{+path}`). */
const REQUIRED_VARIABLE = /\{\+?([A-Za-z0-9_]+)\}/g;

/**
 * Nest's route syntax (path-to-regexp 8) as an RFC 6570 template: `:id` →
 * `{id}`, `*rest` → `{+rest}`, an optional `{/:id}` group → `{/id}`.
 */
export function toUriTemplate(path: string): {
  template: string;
  params: string[];
  wildcards: string[];
} {
  const params: string[] = [];
  const wildcards: string[] = [];
  const render = (tokens: readonly Token[]): string =>
    tokens
      .map((token, index) => {
        switch (token.type) {
          case 'text':
            // Percent-encoded as RFC 6570 expands a literal (braces, `é`):
            // links and `Location` must be URIs whatever the path declares.
            return encodeReserved(token.value);
          case 'param':
            params.push(token.name);
            return `{${token.name}}`;
          case 'wildcard': {
            params.push(token.name);
            // `/*path` is one or more segments: `{/path*}` encodes `?` and
            // `#` within each (they would start a query or a fragment) and
            // expands a list (Express's value) as `/x/y`. The slash before
            // it is the operator's.
            const before = tokens[index - 1];
            if (before?.type === 'text' && before.value.endsWith('/')) {
              wildcards.push(token.name);
              return `{/${token.name}*}`;
            }
            return `{+${token.name}}`;
          }
          case 'group': {
            const [first, second] = token.tokens;
            if (
              token.tokens.length === 2 &&
              first.type === 'text' &&
              first.value === '/' &&
              second.type === 'param'
            ) {
              params.push(second.name);
              return `{/${second.name}}`;
            }
            return ''; // an optional part the template cannot express is left out
          }
          default:
            return '';
        }
      })
      .join('');
  // The slash a wildcard's `{/name*}` stands for is taken off the text before it.
  const template = render(parse(path).tokens).replace(
    /\/(\{\/[^}]+\*\})/g,
    '$1',
  );
  return { template, params, wildcards };
}

/**
 * Every route of the app, global prefix, exclusions and URI versioning
 * included, built once at bootstrap from Nest's discovery of controllers.
 * It answers two questions: which methods a path serves (for 405 `Allow`),
 * and which URI template a handler has (for HAL links to routes).
 */
@Injectable()
export class RouteTable implements OnApplicationBootstrap {
  private routes: RouteEntry[] = [];
  /** Routes the app serves outside Nest's router, see `declareExternalRoute`. */
  private readonly external: { method: string; path: string }[] = [];
  private externalPatterns: { method: string; pattern: RegExp }[] = [];
  private built = false;
  private readonly byHandler = new Map<Type, Map<string, RouteEntry>>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly appConfig: ApplicationConfig,
    private readonly modules: ModulesContainer,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /** How the platform matches paths, asked once when the table is built. */
  private matching: RouteMatchingOptions = {
    caseSensitive: false,
    ignoreTrailingSlash: true,
  };
  /** Capture groups of each pattern's `:param`s, for `maxParamLength`. */
  private readonly paramGroups = new WeakMap<RegExp, readonly number[]>();
  /** Whether the platform's router decodes the path before matching it. */
  private decodesPath = false;
  /** Whether the platform's router folds `//` into `/` before matching. */
  private foldsSlashes = false;
  /** Whether the platform answers `HEAD` wherever a route answers `GET`. */
  private headFromGet = true;

  /** Builds the table once; other bootstrap hooks that need it may call this first. */
  onApplicationBootstrap(): void {
    if (!this.built) this.build();
    this.built = true;
  }

  /**
   * Declares a route the app serves outside Nest's router, in Nest's path
   * syntax (`/docs`, `/docs/*file`): `SwaggerModule.setup()` and static
   * files mount on the platform directly, so Nest's discovery never sees
   * them. Other methods on such a path then answer 405 with `Allow`, and
   * OPTIONS describes them, instead of a 404. Not used for links.
   */
  declareExternalRoute(method: string, path: string): void {
    const route = { method: method.toUpperCase(), path };
    parse(path); // a syntax error is the caller's, reported here
    this.external.push(route);
    if (this.built) this.compileExternal(route);
  }

  /** Every route, in discovery order. */
  all(): readonly RouteEntry[] {
    return this.routes;
  }

  /** The route of a controller method (its first path when it has several). */
  find(controller: Type, handlerName: string): RouteEntry | undefined {
    return this.byHandler.get(controller)?.get(handlerName);
  }

  /**
   * The first route of a controller method in each URI version it is served
   * in (`@Version(['1', '2'])`), keyed by version segment (`v2`); one entry
   * when it has one version or none.
   */
  versionsOf(
    controller: Type,
    handlerName: string,
  ): ReadonlyMap<string, RouteEntry> {
    const versions = new Map<string, RouteEntry>();
    for (const route of this.routesOf(controller, handlerName))
      if (!versions.has(route.version)) versions.set(route.version, route);
    return versions;
  }

  /** Every route of a controller method: each of its paths in each URI version. */
  routesOf(controller: Type, handlerName: string): readonly RouteEntry[] {
    return this.routes.filter(
      (route) =>
        route.controller === controller && route.handlerName === handlerName,
    );
  }

  /**
   * The path of a route with its parameters filled in (RFC 6570, so reserved
   * characters in values are escaped), e.g. `href(OrdersController, 'findOne', { id })`.
   */
  href(
    controller: Type,
    handlerName: string,
    params: Record<string, string | number> = {},
  ): string {
    const route = this.find(controller, handlerName);
    if (!route)
      throw new Error(`${controller.name}.${handlerName} is not a route`);
    // A path parameter left out gives another resource's path (`/orders/`):
    // a programming error, said at once. (Optional `{/id}` groups may go.)
    const missing = [
      ...[...route.template.matchAll(REQUIRED_VARIABLE)].map(
        ([, name]) => name,
      ),
      ...route.wildcards,
    ].filter((name) => params[name] === undefined);
    if (missing.length > 0) {
      throw new Error(
        `${controller.name}.${handlerName}: href() needs ${missing.join(', ')}`,
      );
    }
    return compileUriTemplate(route.template).expand(
      (route.wildcards.length > 0
        ? withWildcardSegments(params, route.wildcards)
        : params) as TemplateValues,
    );
  }

  /**
   * What is served at `path`: `served` holds the methods of its routes (with
   * `HEAD` wherever `GET` is, as both platforms answer it, Fastify unless
   * created with `exposeHeadRoutes: false`), `allow` adds
   * `OPTIONS`, for the `Allow` header. Both are empty when no route matches.
   * `path` is the path as sent; it is matched as the platform's router
   * would match it.
   */
  lookup(path: string): {
    served: ReadonlySet<string>;
    allow: readonly string[];
  } {
    if (this.matching.useSemicolonDelimiter) {
      const end = path.indexOf(';');
      if (end !== -1) path = path.slice(0, end);
    }
    if (this.foldsSlashes) path = path.replace(REPEATED_SLASHES, '/');
    if (this.decodesPath) path = decodedAsRouted(path);
    const served = new Set<string>();
    for (const route of this.routes) {
      if (!route.pattern || !this.matches(route.pattern, path)) continue;
      if (route.method === 'ALL')
        return { served: new Set(ALL_METHODS), allow: ALL_METHODS };
      served.add(route.method);
    }
    for (const route of this.externalPatterns) {
      if (!this.matches(route.pattern, path)) continue;
      if (route.method === 'ALL')
        return { served: new Set(ALL_METHODS), allow: ALL_METHODS };
      served.add(route.method);
    }
    if (served.size === 0) return { served, allow: [] };
    if (this.headFromGet && served.has('GET')) served.add('HEAD');
    const allowed = new Set([...served, 'OPTIONS']);
    const allow = ALL_METHODS.filter((method) => allowed.has(method)).concat(
      [...allowed].filter((method) => !ALL_METHODS.includes(method)).sort(),
    );
    return { served, allow };
  }

  /**
   * Whether the platform's router would serve `path` from a route's
   * pattern: Fastify's does not when a `:param` is longer than its
   * `maxParamLength` (it answers 414 for that method), so no other method
   * may be offered there either.
   */
  private matches(pattern: RegExp, path: string): boolean {
    const limit = this.matching.maxParamLength;
    if (limit === undefined) return pattern.test(path);
    const match = pattern.exec(path);
    if (!match) return false;
    for (const group of this.paramGroups.get(pattern) ?? [])
      if (paramLength(match[group]) > limit) return false;
    return true;
  }

  private build(): void {
    // Fastify matches case-sensitively and without a trailing slash by
    // default, Express the other way: a 405 must answer only where the
    // platform would have routed the method. An adapter that does not say
    // is taken to match as Express does.
    const adapter = this.adapterHost.httpAdapter as HttpServer | undefined;
    const options = adapter?.getRouteMatchingOptions?.();
    if (options) this.matching = options;
    // Fastify's router (find-my-way) matches the decoded path, so it serves
    // `/%77idgets` from `/widgets`; Express's matches the path as sent. No
    // adapter method says which, so the platform's name does.
    this.decodesPath = adapter?.getType?.() === 'fastify';
    // Fastify's `ignoreDuplicateSlashes` is not among Nest's route-matching
    // options; Fastify's public `initialConfig` holds it.
    this.foldsSlashes =
      this.decodesPath && ignoresDuplicateSlashes(adapter?.getInstance?.());
    // Without Fastify's HEAD routes, a HEAD there is the router's 404: it
    // must become a 405 naming GET, and no Allow may offer HEAD.
    this.headFromGet =
      !this.decodesPath || exposesHeadRoutes(adapter?.getInstance?.());
    this.routes = [];
    this.byHandler.clear();
    this.externalPatterns = [];
    for (const route of this.external) this.compileExternal(route);
    for (const wrapper of this.discovery.getControllers()) {
      const instance = wrapper.instance as object | undefined;
      const controller = wrapper.metatype as Type | null | undefined;
      if (!instance || !controller) continue;
      const controllerPaths = asList(
        this.reflector.get<string | string[]>(PATH_METADATA, controller),
      );
      const controllerVersion = this.reflector.get<unknown>(
        VERSION_METADATA,
        controller,
      );
      const modulePath = this.modulePathOf(wrapper.host?.metatype);
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const handlerName of this.scanner.getAllMethodNames(prototype)) {
        const handler = (prototype as Record<string, unknown>)[handlerName];
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
        const queryParams = this.queryParamsOf(controller, handlerName);
        for (const controllerPath of controllerPaths.length
          ? controllerPaths
          : ['/']) {
          for (const methodPath of asList(methodPaths)) {
            for (const versionSegment of this.versionSegments(version)) {
              const path = this.withGlobalPrefix(
                versionSegment,
                joinPath(modulePath, controllerPath, methodPath),
                method,
              );
              this.add({
                controller,
                handlerName,
                method,
                path,
                queryParams,
                version: versionSegment,
              });
            }
          }
        }
      }
    }
  }

  private add(
    route: Pick<
      RouteEntry,
      | 'controller'
      | 'handlerName'
      | 'method'
      | 'path'
      | 'queryParams'
      | 'version'
    >,
  ): void {
    let pattern: RegExp | undefined;
    let template = route.path;
    let pathParams: string[] = [];
    let wildcards: string[] = [];
    try {
      pattern = this.compile(route.path);
      ({ template, params: pathParams, wildcards } = toUriTemplate(route.path));
    } catch {
      // A path syntax this table does not understand only loses its 405 and links.
    }
    const entry: RouteEntry = {
      ...route,
      template,
      pathParams,
      wildcards,
      pattern,
    };
    this.routes.push(entry);
    let handlers = this.byHandler.get(route.controller);
    if (!handlers)
      this.byHandler.set(
        route.controller,
        (handlers = new Map<string, RouteEntry>()),
      );
    if (!handlers.has(route.handlerName))
      handlers.set(route.handlerName, entry);
  }

  private compileExternal(route: { method: string; path: string }): void {
    this.externalPatterns.push({
      method: route.method,
      pattern: this.compile(route.path),
    });
  }

  /** A route's path as the platform matches it, its `:param` groups noted. */
  private compile(path: string): RegExp {
    const { regexp, keys } = pathToRegexp(path, {
      sensitive: this.matching.caseSensitive,
      trailing: this.matching.ignoreTrailingSlash,
    });
    const params: number[] = [];
    keys.forEach((key, index) => {
      if (key.type === 'param') params.push(index + 1);
    });
    if (params.length > 0) this.paramGroups.set(regexp, params);
    return regexp;
  }

  private queryParamsOf(controller: Type, handlerName: string): string[] {
    const args = (Reflect.getMetadata(
      ROUTE_ARGS_METADATA,
      controller,
      handlerName,
    ) ?? {}) as Record<string, { index: number; data?: unknown }>;
    const paramTypes = (Reflect.getMetadata(
      'design:paramtypes',
      controller.prototype as object,
      handlerName,
    ) ?? []) as unknown[];
    const names = new Set<string>();
    for (const [key, arg] of Object.entries(args)) {
      if (key.split(':')[0] !== QUERY_PARAMTYPE) continue;
      if (typeof arg.data === 'string') {
        names.add(arg.data);
        continue;
      }
      const dto = paramTypes[arg.index];
      if (typeof dto !== 'function') continue;
      for (const metadata of getMetadataStorage().getTargetValidationMetadatas(
        dto,
        '',
        true,
        false,
      )) {
        names.add(metadata.propertyName);
      }
    }
    return [...names];
  }

  /**
   * The path `RouterModule.register()` gave the controller's module, which
   * Nest puts between the version and the controller's path. Read as Nest's
   * RoutesResolver reads it: under the application's id first.
   */
  private modulePathOf(module: unknown): string {
    if (typeof module !== 'function') return '';
    const path: unknown =
      Reflect.getMetadata(MODULE_PATH + this.modules.applicationId, module) ??
      Reflect.getMetadata(MODULE_PATH, module);
    return typeof path === 'string' ? path : '';
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
}
