import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  RequestMethod,
  type Type,
} from '@nestjs/common';
import {
  HTTP_CODE_METADATA,
  METHOD_METADATA,
  RESPONSE_PASSTHROUGH_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import {
  compileUriTemplate,
  encodeLiterals,
  templateVariables,
} from './uri-template';
import {
  type RouteEntry,
  RouteTable,
  withWildcardSegments,
} from '../routing/route-table';
import { pathOf } from '../routing/request-target';
import { HalConfig } from './hal.config';
import {
  HAL_EMBEDDED_METADATA,
  HAL_LINKS_METADATA,
  HAL_RESOURCE_METADATA,
  HAL_SKIP_METADATA,
} from './hal.constants';
import type {
  HalContext,
  HalEmbeddedDeclaration,
  HalLinkDeclaration,
  HalLinkObject,
  HalLinkOptions,
} from './hal-link.interface';
import { HalPage } from './hal-page';
import { pageHrefs } from './page-hrefs';
import { resolveHalResourceType } from './hal-resource.decorator';

type Resource = Record<string, unknown>;

/** A declared link, compiled once: its template parsed, its route resolved. */
interface CompiledLink {
  readonly rel: string;
  /** Declared `templated: true`: always sent as a template. */
  readonly templated: boolean;
  readonly when?: HalLinkOptions['when'];
  /** Attributes beyond `href`, or undefined when the link declares none. */
  readonly attributes: Omit<HalLinkObject, 'href' | 'templated'> | undefined;
  /** Sent, as a template, when a resource has no value for one of its variables. */
  readonly template: string;
  /**
   * The whole link object when its href has no variable to expand, built
   * once and shared by every document (frozen); used when hrefs stay paths.
   */
  readonly constant: Readonly<HalLinkObject> | undefined;
  /** The link's href for a resource, or undefined when a variable has no value. */
  expand(resource: Resource, context: HalContext): string | undefined;
  /**
   * The same link to each URI version its route is served in, by version
   * segment: a response in one version links within it. Undefined when the
   * route has one version or none.
   */
  readonly byVersion?: ReadonlyMap<string, CompiledLink>;
}

interface CompiledEmbedded {
  readonly rel: string;
  readonly property: string;
  readonly plan: (() => ResourcePlan) | undefined;
  readonly type: (() => Type) | undefined;
  /** Declared as an array, a single resource, or unknown (undefined). */
  readonly array: boolean | undefined;
}

/** What a link points at: a template string, or a route's. */
interface LinkTarget {
  readonly template: string;
  readonly hasVariables: boolean;
  readonly queryVariables: readonly string[];
  readonly wildcards: readonly string[];
}

function routeTarget(route: RouteEntry): LinkTarget {
  return {
    template: route.template,
    hasVariables: route.pathParams.length > 0,
    queryVariables: route.queryParams,
    wildcards: route.wildcards,
  };
}

/** How to render a resource of one class or one handler. */
interface ResourcePlan {
  readonly links: readonly CompiledLink[];
  /** Rels always rendered as arrays (declared more than once, or `array: true`). */
  readonly arrayRels: ReadonlySet<string>;
  readonly embedded: readonly CompiledEmbedded[];
  readonly declaresSelf: boolean;
  readonly embeddedProperties: ReadonlySet<string>;
  /** Whether a link has a `when` condition (otherwise none is evaluated). */
  readonly conditional: boolean;
}

/** What every link of one response is built with. */
interface RenderScope {
  readonly context: HalContext;
  /** Prepended to path hrefs: empty in the default `path` mode. */
  readonly base: string;
  /** The URI version segment the request was served in (`v2`), if any. */
  readonly version: string | undefined;
}

/** One rel of a documented HAL body. */
export interface LinkShape {
  readonly rel: string;
  readonly array: boolean;
  /** Present only sometimes (`when`). */
  readonly conditional: boolean;
  readonly templated: boolean;
}

/** The rels of a documented HAL body, and of its embedded resources. */
export interface HalShape {
  readonly links: readonly LinkShape[];
  readonly embedded: readonly {
    readonly rel: string;
    readonly item: HalShape | undefined;
    /** The class of the items, whose schema the document may have. */
    readonly typeName: string | undefined;
    /** A list (true), one resource (false), or either (undefined). */
    readonly array: boolean | undefined;
  }[];
  readonly curies: boolean;
}

/** What the interceptor needs to know about a handler, worked out once. */
export interface HandlerPlan {
  readonly skip: boolean;
  readonly resource: ResourcePlan;
  /** Whether the root resource takes the class links of the returned instance. */
  readonly usesInstanceClass: boolean;
  /** The status Nest will send: `@HttpCode()` or the method's default. */
  readonly status: number;
  /** Whether the handler declares its status with `@HttpCode()`. */
  readonly explicitStatus: boolean;
  /**
   * The URI version segment a request (its target, path and query) was
   * served in, for handlers served in some version; undefined otherwise.
   */
  readonly versionOf: ((target: string) => string) | undefined;
}

const EMPTY_PLAN: ResourcePlan = {
  links: [],
  arrayRels: new Set(),
  embedded: [],
  declaresSelf: false,
  embeddedProperties: new Set(),
  conditional: false,
};
const LINK_ATTRIBUTES = [
  'type',
  'deprecation',
  'name',
  'profile',
  'title',
  'hreflang',
] as const;

type MaybePromise<T> = T | Promise<T>;

/** Applies `next` now, or when the value settles. */
function then<T, R>(
  value: MaybePromise<T>,
  next: (value: T) => MaybePromise<R>,
): MaybePromise<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}

/** `Promise.all` that stays synchronous when nothing is a promise. */
function all<T>(values: readonly MaybePromise<T>[]): MaybePromise<T[]> {
  return values.some((value) => value instanceof Promise)
    ? Promise.all(values)
    : (values as T[]);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof (value as PromiseLike<unknown> | undefined)?.then === 'function'
  );
}

/**
 * What `JSON.stringify` would write of a value: its `toJSON()` result when it
 * has one (a class that hides a password, a Date), else the value itself.
 * A document's properties are copied from this, so what a class leaves out
 * of its JSON stays out of its HAL document.
 */
export function serializedState(value: object): unknown {
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  return typeof toJSON === 'function'
    ? (toJSON as (key: string) => unknown).call(value, '')
    : value;
}

/** Whether a value can hold a resource's properties (a non-array object). */
export function isStateObject(value: unknown): value is Resource {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The class of an object whose class may carry `@HalLink`s: none for a plain
 * object or a null-prototype one (`Object.create(null)`).
 */
function classOf(value: object): Type | undefined {
  const type = value.constructor;
  return type !== Object && typeof type === 'function'
    ? (type as Type)
    : undefined;
}

/** `RouteParamtypes.RESPONSE` and `.NEXT`, the prefixes of their ROUTE_ARGS_METADATA keys. */
const RESPONSE_PARAMTYPES = new Set(['1', '2']);

/**
 * Whether a handler writes its response itself (`@Res()` or `@Next()`
 * without `passthrough`), as Nest decides it: its result never reaches the
 * adapter's `reply`, so nothing is rendered for it.
 */
function writesOwnResponse(controller: Type, name: string): boolean {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ??
    {}) as Record<string, unknown>;
  return (
    Object.keys(args).some((key) =>
      RESPONSE_PARAMTYPES.has(key.split(':')[0]),
    ) && !Reflect.getMetadata(RESPONSE_PASSTHROUGH_METADATA, controller, name)
  );
}

/** A path href made absolute with the request's base URL (empty in the default `path` mode). */
function absolute(href: string, base: string): string {
  return base !== '' && href.startsWith('/') && !href.startsWith('//')
    ? base + href
    : href;
}

/**
 * Turns handler results into HAL documents. Every template is parsed and
 * every route reference resolved at bootstrap (`onApplicationBootstrap`),
 * where a bad rel or a reference to a non-route fails the start; per
 * request only `when` conditions and template expansion run.
 */
@Injectable()
export class HalRenderer implements OnApplicationBootstrap {
  private readonly logger = new Logger('HalProblem');
  private readonly classPlans = new Map<Type, ResourcePlan>();
  private readonly handlerPlans = new WeakMap<object, HandlerPlan>();
  private readonly warnedEmbeddedWithoutSelf = new WeakSet<object>();
  private readonly instancePlans = new WeakMap<
    HandlerPlan,
    Map<Type, ResourcePlan>
  >();
  private readonly pagePlans = new WeakMap<HandlerPlan, ResourcePlan>();

  constructor(
    private readonly config: HalConfig,
    private readonly routes: RouteTable,
    private readonly reflector: Reflector,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  /** Compiles the plan of every handler now, so mistakes fail the start. */
  onApplicationBootstrap(): void {
    this.routes.onApplicationBootstrap();
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as Type | null;
      const instance = wrapper.instance as object | undefined;
      if (!controller || !instance) continue;
      const prototype = Object.getPrototypeOf(instance) as Record<
        string,
        unknown
      >;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name];
        if (
          typeof handler === 'function' &&
          this.reflector.get(METHOD_METADATA, handler) !== undefined
        ) {
          this.planFor(controller, handler as (...args: unknown[]) => unknown);
        }
      }
    }
  }

  planFor(
    controller: Type,
    handler: (...args: unknown[]) => unknown,
  ): HandlerPlan {
    let plan = this.handlerPlans.get(handler);
    if (plan) return plan;
    const where = `${controller.name}.${handler.name}`;
    const declaredType = this.reflector.get<Type | (() => Type) | undefined>(
      HAL_RESOURCE_METADATA,
      handler,
    );
    const resourceType = resolveHalResourceType(declaredType);
    if (resourceType === undefined && declaredType !== undefined) {
      throw new Error(
        `${where}: @HalResource(() => X) returned nothing; X is probably not defined yet where the function runs`,
      );
    }
    const classPlan = resourceType
      ? this.planForClass(resourceType)
      : EMPTY_PLAN;
    const own = this.compilePlan(handler, where);
    if (
      (declaredType !== undefined ||
        own.links.length > 0 ||
        own.embedded.length > 0) &&
      writesOwnResponse(controller, handler.name)
    ) {
      throw new Error(
        `${where}: its @HalResource/@HalLink/@HalEmbedded are never rendered, since the handler writes its own response (@Res() or @Next()); use @Res({ passthrough: true }) and return the resource`,
      );
    }
    const requestMethod = this.reflector.get<RequestMethod | undefined>(
      METHOD_METADATA,
      handler,
    );
    plan = {
      skip:
        this.reflector.getAllAndOverride<boolean>(HAL_SKIP_METADATA, [
          handler,
          controller,
        ]) ?? false,
      resource: this.mergePlans(classPlan, own),
      usesInstanceClass: resourceType === undefined,
      status:
        this.reflector.get<number | undefined>(HTTP_CODE_METADATA, handler) ??
        (requestMethod === RequestMethod.POST ? 201 : 200),
      explicitStatus:
        this.reflector.get<number | undefined>(HTTP_CODE_METADATA, handler) !==
        undefined,
      versionOf: this.versionOfRequests(controller, handler.name),
    };
    this.handlerPlans.set(handler, plan);
    return plan;
  }

  /**
   * How to tell which URI version of a handler a request path reached: a
   * constant for one version, the first route pattern that matches for
   * several (`@Version(['1', '2'])`). Undefined without URI versions.
   */
  private versionOfRequests(
    controller: Type,
    handlerName: string,
  ): ((target: string) => string) | undefined {
    // `''`: no version segment (`VERSION_NEUTRAL`, or no URI versioning).
    // Every path of each version: `@Controller({ path: ['a', 'b'] })` is
    // served at `/v2/b` too, which the first route of v2 does not match.
    const routes = this.routes.routesOf(controller, handlerName);
    if (routes.length === 0) return undefined;
    const [first] = routes;
    if (routes.every(({ version }) => version === first.version))
      return first.version === '' ? undefined : () => first.version;
    return (target) => {
      const path = pathOf(target);
      return (
        routes.find(({ pattern }) => pattern?.test(path))?.version ??
        first.version
      );
    };
  }

  /**
   * The HAL document of a handler's result. `selfHref` is the current
   * request's URL, the `self` of a root resource that declares none.
   * Synchronous unless a `when` condition returns a promise: no promise or
   * microtask is paid for on the common path.
   */
  render(
    value: object,
    plan: HandlerPlan,
    context: HalContext,
    selfHref: string,
    /** `serializedState(value)`, worked out by the caller. */
    state: Resource = value as Resource,
  ): MaybePromise<Resource> {
    // The base URL is the same for every link of the response: worked out once.
    const scope: RenderScope = {
      context,
      base: this.config.baseUrlFor(context.request),
      version: plan.versionOf?.(selfHref),
    };
    if (value instanceof HalPage)
      return this.renderPage(value, plan, scope, selfHref);
    if (Array.isArray(value)) {
      const rel = plan.resource.embedded[0]?.rel ?? 'items';
      const itemPlan = plan.resource.embedded[0]?.plan?.();
      return then(this.renderItems(value, itemPlan, scope), (items) => ({
        _links: { self: { href: absolute(selfHref, scope.base) } },
        _embedded: { [rel]: items },
      }));
    }
    return this.renderResource(
      value as Resource,
      this.rootPlan(value, plan),
      scope,
      selfHref,
      state,
    );
  }

  /**
   * Whether a handler's result carries a declared `self` (rather than the
   * request URL as a stand-in): only a declared one may become `Location`.
   */
  declaresSelf(value: object, plan: HandlerPlan): boolean {
    return (
      !(value instanceof HalPage) &&
      !Array.isArray(value) &&
      this.rootPlan(value, plan).declaresSelf
    );
  }

  /** The plan of a root resource: the handler's, plus the class links of an instance it returned. */
  private rootPlan(value: object, plan: HandlerPlan): ResourcePlan {
    const type = plan.usesInstanceClass ? classOf(value) : undefined;
    return type ? this.instancePlan(plan, type) : plan.resource;
  }

  /** The handler's plan merged with the class links of what it returned, once per class. */
  private instancePlan(plan: HandlerPlan, type: Type): ResourcePlan {
    let byClass = this.instancePlans.get(plan);
    if (!byClass)
      this.instancePlans.set(plan, (byClass = new Map<Type, ResourcePlan>()));
    let merged = byClass.get(type);
    if (!merged)
      byClass.set(
        type,
        (merged = this.mergePlans(this.planForClass(type), plan.resource)),
      );
    return merged;
  }

  /**
   * What a handler's HAL body contains, for documentation (the OpenAPI
   * document): its rels with their cardinality, and its embedded rels with
   * the rels of their items.
   */
  describe(
    controller: Type,
    handler: (...args: unknown[]) => unknown,
    resourceType?: Type,
  ): HalShape {
    const plan = this.planFor(controller, handler);
    const resource =
      plan.usesInstanceClass && resourceType
        ? this.mergePlans(this.planForClass(resourceType), plan.resource)
        : plan.resource;
    return this.shapeOf(resource);
  }

  private shapeOf(plan: ResourcePlan): HalShape {
    const links = new Map<string, LinkShape>();
    if (!plan.declaresSelf)
      links.set('self', {
        rel: 'self',
        array: false,
        conditional: false,
        templated: false,
      });
    for (const link of plan.links) {
      links.set(link.rel, {
        rel: link.rel,
        array: plan.arrayRels.has(link.rel),
        conditional: link.when !== undefined,
        templated: link.templated,
      });
    }
    return {
      links: [...links.values()],
      embedded: plan.embedded.map(({ rel, plan: itemPlan, type, array }) => ({
        rel,
        item: itemPlan ? this.shapeOf(itemPlan()) : undefined,
        typeName: type?.().name,
        array,
      })),
      curies: this.config.curies.size > 0,
    };
  }

  /** The `self` href a rendered resource carries. */
  static selfOf(document: Resource): string | undefined {
    const links = document._links as
      Record<string, HalLinkObject | HalLinkObject[]> | undefined;
    const self = links?.self;
    const link = Array.isArray(self) ? self[0] : self;
    // A template (a variable was missing) is no URI: it cannot be `Location`.
    return link?.templated === true ? undefined : link?.href;
  }

  private renderResource(
    resource: Resource,
    plan: ResourcePlan,
    scope: RenderScope,
    selfHref: string | undefined,
    state: Resource = resource,
  ): MaybePromise<Resource> {
    if (!plan.conditional)
      return this.assemble(resource, plan, scope, selfHref, undefined, state);
    const include: (boolean | PromiseLike<boolean>)[] = [];
    let pending = false;
    for (const link of plan.links) {
      const held = link.when ? link.when(resource, scope.context) : true;
      if (!pending && held !== true && held !== false && isThenable(held))
        pending = true;
      include.push(held);
    }
    if (pending) {
      return Promise.all(include.map((value) => Promise.resolve(value))).then(
        (resolved) =>
          this.assemble(resource, plan, scope, selfHref, resolved, state),
      );
    }
    return this.assemble(resource, plan, scope, selfHref, include, state);
  }

  /** `include`: per link, whether its `when` held (undefined: no link has one). */
  private assemble(
    resource: Resource,
    plan: ResourcePlan,
    scope: RenderScope,
    selfHref: string | undefined,
    include: readonly unknown[] | undefined,
    /** The properties to send: `resource`, or what its `toJSON()` gives. */
    state: Resource,
  ): MaybePromise<Resource> {
    const { base } = scope;
    const links: Record<string, HalLinkObject | HalLinkObject[]> = {};
    if (!plan.declaresSelf && selfHref !== undefined)
      links.self = { href: absolute(selfHref, base) };
    const arrayRels = plan.arrayRels.size > 0 ? plan.arrayRels : undefined;
    if (arrayRels) for (const rel of arrayRels) links[rel] = [];
    const compiled = plan.links;
    for (let index = 0; index < compiled.length; index++) {
      if (include !== undefined && !include[index]) continue;
      const declared = compiled[index];
      const link =
        (scope.version !== undefined &&
          declared.byVersion?.get(scope.version)) ||
        declared;
      const object =
        link.constant !== undefined && base === ''
          ? link.constant
          : this.linkObject(link, resource, scope);
      if (arrayRels?.has(link.rel))
        (links[link.rel] as HalLinkObject[]).push(object);
      else links[link.rel] = object;
    }
    if (this.config.curies.size > 0)
      this.addCuries(
        links,
        plan.embedded
          .filter(({ property }) => state[property] != null)
          .map(({ rel }) => rel),
      );

    const skipped = plan.embeddedProperties;
    let document: Resource;
    // With nothing to leave out, a spread: V8 copies the properties in one
    // step instead of one megamorphic store per key (bench:instructions, page
    // of 20 on Fastify: 607.3k -> 586.6k instructions per request).
    if (skipped.size === 0 && !('_links' in state) && !('_embedded' in state)) {
      document = { _links: links, ...state };
    } else {
      document = { _links: links };
      for (const key of Object.keys(state)) {
        if (key === '_links' || key === '_embedded' || skipped.has(key))
          continue;
        // An own `__proto__` (JSON.parse makes one) assigned would replace
        // the document's prototype and vanish; the spread above keeps it.
        if (key === '__proto__')
          Object.defineProperty(document, key, {
            value: state[key],
            enumerable: true,
            writable: true,
            configurable: true,
          });
        else document[key] = state[key];
      }
    }
    if (plan.embedded.length === 0) return document;
    const rels: string[] = [];
    const values: MaybePromise<unknown>[] = [];
    for (const declaration of plan.embedded) {
      const value = state[declaration.property];
      if (value === undefined || value === null) continue;
      // A `toJSON()` that maps its children to plain objects keeps what it
      // hides hidden, and the children keep the links of their class.
      const itemPlan =
        declaration.plan?.() ??
        (state !== resource
          ? this.heldClassPlan(resource[declaration.property])
          : undefined);
      rels.push(declaration.rel);
      values.push(
        Array.isArray(value)
          ? this.renderItems(value, itemPlan, scope)
          : this.renderEmbedded(value as Resource, itemPlan, scope),
      );
    }
    // Nothing to embed (every value null): no empty `_embedded` either.
    if (rels.length === 0) return document;
    return then(all(values), (rendered) => {
      const embedded: Resource = {};
      rels.forEach((rel, index) => (embedded[rel] = rendered[index]));
      document._embedded = embedded;
      return document;
    });
  }

  /** The plan of the class of what a resource held (its first object item for a list). */
  private heldClassPlan(held: unknown): ResourcePlan | undefined {
    const sample: unknown = Array.isArray(held)
      ? (held as unknown[]).find(
          (item) => typeof item === 'object' && item !== null,
        )
      : held;
    if (typeof sample !== 'object' || sample === null) return undefined;
    const type = classOf(sample);
    return type ? this.planForClass(type) : undefined;
  }

  private linkObject(
    link: CompiledLink,
    resource: Resource,
    scope: RenderScope,
  ): HalLinkObject {
    const href = link.expand(resource, scope.context);
    const object: HalLinkObject = {
      href: absolute(href ?? link.template, scope.base),
    };
    if (link.attributes !== undefined) Object.assign(object, link.attributes);
    if (href === undefined || link.templated) object.templated = true;
    return object;
  }

  private renderPage(
    page: HalPage,
    plan: HandlerPlan,
    scope: RenderScope,
    selfHref: string,
  ): MaybePromise<Resource> {
    const { page: number, size, total } = page.meta;
    const totalPages = page.totalPages;
    const pageParam = page.options.pageParam ?? 'page';
    const sizeParam = page.options.sizeParam ?? 'size';
    const { base } = scope;
    const hrefOf = pageHrefs(
      selfHref,
      pageParam,
      sizeParam,
      size,
      base === '' ? undefined : (href) => absolute(href, base),
    );
    const lastPage = Math.max(totalPages, 1);
    const links: Record<string, HalLinkObject> = {
      self: { href: hrefOf(number) },
      first: { href: hrefOf(1) },
    };
    if (number > 1)
      links.prev = { href: hrefOf(Math.min(number - 1, lastPage)) };
    if (number < totalPages) links.next = { href: hrefOf(number + 1) };
    links.last = { href: hrefOf(lastPage) };

    const declared = plan.resource.embedded[0];
    const rel = page.options.rel ?? declared?.rel ?? 'items';
    const itemPlan = page.options.type
      ? this.planForClass(page.options.type())
      : declared?.plan?.();
    const document = (ownLinks: object | undefined, items: unknown) => {
      const merged = ownLinks ? { ...links, ...ownLinks } : links;
      this.addCuries(merged, [rel]);
      return {
        _links: merged,
        page: { number, size, totalElements: total, totalPages },
        _embedded: { [rel]: items },
      };
    };
    const items = this.renderItems(page.items, itemPlan, scope);
    const ownPlan = this.pageLinksPlan(plan);
    if (ownPlan.links.length === 0)
      return then(items, (rendered) => document(undefined, rendered));
    return then(
      all<unknown>([this.renderResource({}, ownPlan, scope, undefined), items]),
      ([own, rendered]) =>
        document((own as Resource)._links as object, rendered),
    );
  }

  /** The handler's own links of a page (its paging links are built per request). */
  private pageLinksPlan(plan: HandlerPlan): ResourcePlan {
    let pagePlan = this.pagePlans.get(plan);
    if (!pagePlan) {
      pagePlan = {
        ...plan.resource,
        embedded: [],
        embeddedProperties: new Set(),
        declaresSelf: true,
      };
      this.pagePlans.set(plan, pagePlan);
    }
    return pagePlan;
  }

  private renderItems(
    items: readonly unknown[],
    plan: ResourcePlan | undefined,
    scope: RenderScope,
  ): MaybePromise<Resource[]> {
    const rendered: MaybePromise<Resource>[] = [];
    let pending = false;
    for (const item of items) {
      const document = this.renderEmbedded(item as Resource, plan, scope);
      if (document instanceof Promise) pending = true;
      rendered.push(document);
    }
    return pending ? all(rendered) : (rendered as Resource[]);
  }

  private renderEmbedded(
    item: Resource,
    plan: ResourcePlan | undefined,
    scope: RenderScope,
  ): MaybePromise<Resource> {
    // `null` or a primitive (a list of tags) is no resource: embedded as it
    // is rather than failing the response or spread into `{"0": "a", ...}`.
    if (typeof item !== 'object' || item === null) return item;
    // A Date, or a class whose JSON is no object: embedded as its JSON is.
    const state = serializedState(item);
    if (state !== item && !isStateObject(state)) return state as Resource;
    const type = plan ? undefined : classOf(item);
    const itemPlan = plan ?? (type ? this.planForClass(type) : EMPTY_PLAN);
    if (
      !itemPlan.declaresSelf &&
      !this.warnedEmbeddedWithoutSelf.has(itemPlan)
    ) {
      this.warnedEmbeddedWithoutSelf.add(itemPlan);
      this.logger.warn(
        'An embedded resource has no self link: declare @HalLink("self", ...) on its class and name it in @HalEmbedded({ type })',
      );
    }
    return this.renderResource(
      item,
      itemPlan,
      scope,
      undefined,
      state as Resource,
    );
  }

  private planForClass(type: Type): ResourcePlan {
    let plan = this.classPlans.get(type);
    if (!plan) {
      plan = this.compilePlan(type, type.name);
      this.classPlans.set(type, plan);
      for (const embedded of plan.embedded) {
        const itemPlan = embedded.plan?.();
        if (itemPlan && !itemPlan.declaresSelf) {
          throw new Error(
            `@HalEmbedded('${embedded.rel}') on ${type.name}: the embedded type declares no @HalLink('self', ...)`,
          );
        }
      }
    }
    return plan;
  }

  private compilePlan(holder: object, where: string): ResourcePlan {
    const declarations = (Reflect.getMetadata(HAL_LINKS_METADATA, holder) ??
      []) as HalLinkDeclaration[];
    const embeddedDeclarations = (Reflect.getMetadata(
      HAL_EMBEDDED_METADATA,
      holder,
    ) ?? []) as HalEmbeddedDeclaration[];
    const counts = new Map<string, number>();
    for (const { rel } of declarations)
      counts.set(rel, (counts.get(rel) ?? 0) + 1);
    const arrayRels = new Set(
      declarations
        .filter(
          ({ rel, options }) =>
            options.array === true || (counts.get(rel) ?? 0) > 1,
        )
        .map(({ rel }) => rel),
    );
    return {
      links: declarations.map((declaration) =>
        this.compileLink(declaration, where),
      ),
      arrayRels,
      embedded: embeddedDeclarations.map(({ rel, property, type, array }) => {
        this.config.assertRelation(rel, where);
        return {
          rel,
          property,
          type,
          array,
          plan: type ? () => this.planForClass(type()) : undefined,
        };
      }),
      declaresSelf: counts.has('self'),
      embeddedProperties: new Set(
        embeddedDeclarations.map(({ property }) => property),
      ),
      conditional: declarations.some(({ options }) => options.when),
    };
  }

  private mergePlans(base: ResourcePlan, extra: ResourcePlan): ResourcePlan {
    if (extra.links.length === 0 && extra.embedded.length === 0) return base;
    if (base.links.length === 0 && base.embedded.length === 0) return extra;
    const overridden = new Set(extra.links.map(({ rel }) => rel));
    return {
      links: [
        ...base.links.filter(({ rel }) => !overridden.has(rel)),
        ...extra.links,
      ],
      arrayRels: new Set([...base.arrayRels, ...extra.arrayRels]),
      embedded: [...base.embedded, ...extra.embedded],
      declaresSelf: base.declaresSelf || extra.declaresSelf,
      embeddedProperties: new Set([
        ...base.embeddedProperties,
        ...extra.embeddedProperties,
      ]),
      conditional: base.conditional || extra.conditional,
    };
  }

  private compileLink(
    { rel, target, options }: HalLinkDeclaration,
    where: string,
  ): CompiledLink {
    this.config.assertRelation(rel, where);
    const attributes: Omit<HalLinkObject, 'href' | 'templated'> = {};
    for (const name of LINK_ATTRIBUTES) {
      if (options[name] !== undefined) attributes[name] = options[name];
    }
    const link = (target: LinkTarget) =>
      this.linkTo(rel, target, options, attributes);
    if (typeof target === 'string')
      return link({
        template: encodeLiterals(target),
        hasVariables: templateVariables(target).length > 0,
        queryVariables: [],
        wildcards: [],
      });
    const [controller, handlerName] =
      typeof target === 'function' ? target() : target;
    if (typeof controller !== 'function') {
      throw new Error(
        `@HalLink('${rel}') on ${where}: the route reference is undefined (a circular import? use () => [Controller, 'method'])`,
      );
    }
    const route = this.routes.find(controller, handlerName);
    if (!route) {
      throw new Error(
        `@HalLink('${rel}') on ${where}: ${controller.name}.${handlerName} is not a route`,
      );
    }
    const versions = this.routes.versionsOf(controller, handlerName);
    const compiled = link(routeTarget(route));
    if (versions.size < 2) return compiled;
    // A route served in several URI versions: a response in one links to
    // that one, never to the first declared (`/v1/...` from a `/v2/` request).
    const byVersion = new Map<string, CompiledLink>();
    for (const [version, variant] of versions)
      byVersion.set(version, link(routeTarget(variant)));
    return { ...compiled, byVersion };
  }

  private linkTo(
    rel: string,
    { template, hasVariables, queryVariables, wildcards }: LinkTarget,
    options: HalLinkOptions,
    attributes: Omit<HalLinkObject, 'href' | 'templated'>,
  ): CompiledLink {
    const hasAttributes = Object.keys(attributes).length > 0;
    const compiled = {
      rel,
      when: options.when,
      attributes: hasAttributes ? attributes : undefined,
      template,
    };
    if (options.templated === true || !hasVariables) {
      const href =
        options.templated === true && queryVariables.length
          ? `${template}{?${queryVariables.join(',')}}`
          : template;
      const constant: HalLinkObject = { href, ...attributes };
      if (options.templated === true) constant.templated = true;
      return {
        ...compiled,
        templated: options.templated === true,
        constant: Object.freeze(constant),
        expand: () => href,
      };
    }
    const parsed = compileUriTemplate(template);
    const params = options.params;
    const expand = (values: Readonly<Record<string, unknown>>) =>
      parsed.expandFrom(
        wildcards.length > 0 ? withWildcardSegments(values, wildcards) : values,
      );
    return {
      ...compiled,
      templated: false,
      constant: undefined,
      expand: params
        ? (resource, context) => expand(params(resource, context))
        : expand,
    };
  }

  /** `embeddedRels`: curied rels count in `_embedded` too (draft-kelly-json-hal §8.2). */
  private addCuries(
    links: Record<string, HalLinkObject | HalLinkObject[]>,
    embeddedRels: readonly string[] = [],
  ): void {
    if (this.config.curies.size === 0) return;
    const used = new Set<string>();
    for (const rel of [...Object.keys(links), ...embeddedRels]) {
      const colon = rel.indexOf(':');
      if (colon > 0 && this.config.curies.has(rel.slice(0, colon)))
        used.add(rel.slice(0, colon));
    }
    if (used.size === 0) return;
    (links as Record<string, unknown>).curies = [...used].map((name) => ({
      name,
      href: this.config.curies.get(name),
      templated: true,
    }));
  }
}
