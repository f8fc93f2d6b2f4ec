import type { INestApplication, Type } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import {
  getOptionsToken,
  type ThrottlerModuleOptions,
} from '@nestjs/throttler';
import type { HalProblemModuleOptions } from '../hal-problem-module-options.interface';
import { HAL_PROBLEM_MODULE_OPTIONS } from '../hal-problem.module-definition';
import { AuthConfig } from '../auth/auth.config';
import { routeAccess } from '../auth/route-access';
import { HalConfig } from '../hal/hal.config';
import {
  HAL_CONTENT_TYPE,
  HAL_EMBEDDED_METADATA,
  HAL_LINKS_METADATA,
  HAL_RESOURCE_METADATA,
  HAL_SKIP_METADATA,
} from '../hal/hal.constants';
import { HalPage } from '../hal/hal-page';
import { type HalShape, HalRenderer } from '../hal/hal.renderer';
import { IdempotencyService } from '../idempotency/idempotency.service';
import {
  IdempotencyKeyInvalid,
  IdempotencyKeyMissing,
  IdempotencyKeyReused,
  IdempotencyRequestInFlight,
} from '../idempotency/idempotency.problems';
import {
  AuthenticationRequired,
  InsufficientScope,
  InvalidAuthorizationRequest,
  InvalidToken,
} from '../auth/auth.problems';
import { QuotaExceeded } from '../throttle/throttle.problems';
import { skipsThrottler, throttlerNames } from '../throttle/route-throttlers';
import { isOperationClass } from '../operations/hal-operation.decorator';
import { OperationNotFound } from '../operations/operations.service';
import { resolveHalResourceType } from '../hal/hal-resource.decorator';
import { SAFE_METHOD_NAMES } from '../idempotency/safe-methods';
import { genericDetail, reasonPhrase } from '../problem/http-status';
import { ProblemConfig } from '../problem/problem.config';
import type { ProblemType } from '../problem/problem-type';
import { ProblemTypeCatalog } from '../problem/problem-type.catalog';
import { type RouteEntry, RouteTable } from '../routing/route-table';
import type { ApiHalResponseMetadata } from './api-hal-response.decorator';
import {
  API_HAL_RESPONSE_METADATA,
  API_NOT_IMPLEMENTED_METADATA,
  API_PROBLEM_RESPONSES_METADATA,
} from './openapi.constants';

/** The parts of an OpenAPI 3 document this module reads and writes. */
type Schema = Record<string, unknown>;
interface Operation {
  responses?: Record<string, Schema>;
  parameters?: Schema[];
  security?: Record<string, string[]>[];
  [key: string]: unknown;
}
/** The parts of an OpenAPI 3 document `HalProblemOpenApi` reads and writes. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
  components?: {
    schemas?: Record<string, Schema>;
    securitySchemes?: Record<string, Schema>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const ARG_BODY = '3';
const ARG_QUERY = '4';
const ARG_PARAM = '5';

/** What a route can answer, for choosing the problem types it documents. */
interface RouteFeatures {
  readonly guarded: boolean;
  readonly scoped: boolean;
  readonly idempotent: boolean;
  readonly keyRequired: boolean;
  readonly throttled: boolean;
  /** Serves a status monitor (`@HalResource` or `@ApiHalResponse` of an `Operation`), not a 202 that starts one. */
  readonly monitor: boolean;
  /** The problem types `@ApiProblemResponses` names, by slug. */
  readonly declared: ReadonlySet<string>;
}

/**
 * The module's own problem types, each documented only on routes whose
 * feature can send it: an unguarded route never answers `invalid-token`.
 */
const MODULE_PROBLEM_TYPES: ReadonlyMap<
  string,
  (route: RouteFeatures) => boolean
> = new Map([
  [AuthenticationRequired.slug, (route) => route.guarded],
  [InvalidToken.slug, (route) => route.guarded],
  [InvalidAuthorizationRequest.slug, (route) => route.guarded],
  [InsufficientScope.slug, (route) => route.scoped],
  [IdempotencyKeyInvalid.slug, (route) => route.idempotent],
  [IdempotencyKeyMissing.slug, (route) => route.keyRequired],
  [IdempotencyRequestInFlight.slug, (route) => route.idempotent],
  [IdempotencyKeyReused.slug, (route) => route.idempotent],
  [QuotaExceeded.slug, (route) => route.throttled],
  [OperationNotFound.slug, (route) => route.monitor],
]);

const ref = (name: string): Schema => ({
  $ref: `#/components/schemas/${name}`,
});
const header = (
  description: string,
  schema: Schema = { type: 'string' },
): Schema => ({ description, schema });

const BASE_SCHEMAS: Record<string, Schema> = {
  HalLink: {
    type: 'object',
    description: 'A HAL link object (draft-kelly-json-hal §5).',
    required: ['href'],
    properties: {
      href: {
        type: 'string',
        description: 'A URI reference, or a URI template when templated.',
      },
      templated: { type: 'boolean' },
      type: { type: 'string' },
      deprecation: { type: 'string' },
      name: { type: 'string' },
      profile: { type: 'string' },
      title: { type: 'string' },
      hreflang: { type: 'string' },
    },
  },
  HalPageMetadata: {
    type: 'object',
    required: ['number', 'size', 'totalElements', 'totalPages'],
    properties: {
      number: { type: 'integer', minimum: 1 },
      size: { type: 'integer', minimum: 1 },
      totalElements: { type: 'integer', minimum: 0 },
      totalPages: { type: 'integer', minimum: 0 },
    },
  },
  ProblemDetails: {
    type: 'object',
    description:
      'RFC 9457 Problem Details. Extension members may appear beside these.',
    required: ['type', 'title', 'status', 'detail', 'instance'],
    properties: {
      type: {
        type: 'string',
        description:
          'An absolute URI identifying the problem type, or about:blank.',
      },
      title: { type: 'string' },
      status: { type: 'integer', minimum: 400, maximum: 599 },
      detail: { type: 'string' },
      instance: { type: 'string' },
      requestId: { type: 'string' },
    },
  },
  ValidationError: {
    type: 'object',
    required: ['title', 'detail'],
    properties: {
      title: {
        type: 'string',
        description:
          'A stable code: invalid_type, too_small, too_big, invalid_format, invalid_value, unrecognized_key, or a constraint name.',
      },
      detail: { type: 'string' },
      pointer: {
        type: 'string',
        description: 'A JSON Pointer into the body, as a URI fragment.',
      },
      parameter: { type: 'string' },
      header: { type: 'string' },
    },
  },
  ValidationProblemDetails: {
    allOf: [
      ref('ProblemDetails'),
      {
        type: 'object',
        required: ['errors'],
        properties: {
          errors: {
            type: 'array',
            items: ref('ValidationError'),
            maxItems: 100,
          },
          errorsOmitted: {
            type: 'integer',
            minimum: 1,
            description:
              'How many more violations there were than the 100 listed.',
          },
        },
      },
    ],
  },
};

/** Options of `HalProblemOpenApi.enhance`. */
export interface HalProblemOpenApiOptions {
  /**
   * Problem responses the app sends on many routes from outside their
   * handlers (a maintenance middleware's 503), as `@ApiProblemResponses`
   * would name them, given in one place: called once per route with its
   * method (`GET`) and path template (`/orders/{id}`).
   */
  readonly problemResponses?: (route: {
    readonly method: string;
    readonly path: string;
  }) => readonly (number | ProblemType)[];
}

/**
 * Writes the truth about HAL and problem responses into an OpenAPI document
 * made by `@nestjs/swagger` (which this needs only for the document itself):
 * `application/hal+json` bodies whose `_links` hold exactly the declared rels,
 * typed `_embedded`, page blocks, and `application/problem+json` for every
 * status a route can produce, with headers (`WWW-Authenticate`, `RateLimit`,
 * `Retry-After`, `Location`) and the `Idempotency-Key` parameter.
 *
 * @example
 * const document = SwaggerModule.createDocument(app, config);
 * SwaggerModule.setup('docs', app, HalProblemOpenApi.enhance(app, document));
 */
export class HalProblemOpenApi {
  private readonly reflector: Reflector;
  private readonly routes: RouteTable;
  private readonly renderer: HalRenderer;
  private readonly catalog: ProblemTypeCatalog;
  /** `hal.plainJson`: HAL bodies are also offered as `application/json`. */
  private readonly plainJson: boolean;
  private readonly auth: AuthConfig;
  /** The names of `ThrottlerModule`'s throttlers; none without it. */
  private readonly throttlers: readonly string[];
  /** `throttle.onStorageError: 'fail-closed'`: a storage failure is a 503. */
  private readonly throttleFailsClosed: boolean;
  /**
   * OpenAPI 3.0 allows scopes in a security requirement only for OAuth 2 and
   * OpenID Connect schemes (for `http` bearer the list MUST be empty); 3.1
   * allows role names for any scheme.
   */
  private readonly scopesInSecurity: boolean;
  private readonly instanceStyle: ProblemConfig['instance'];
  private readonly idempotency: IdempotencyService;

  private constructor(
    app: INestApplication,
    private readonly document: OpenApiDocument,
    private readonly extra: HalProblemOpenApiOptions,
  ) {
    this.reflector = app.get(Reflector);
    this.routes = app.get(RouteTable, { strict: false });
    this.renderer = app.get(HalRenderer, { strict: false });
    this.catalog = app.get(ProblemTypeCatalog, { strict: false });
    this.plainJson = app.get(HalConfig, { strict: false }).plainJson;
    this.auth = app.get(AuthConfig, { strict: false });
    const options = app.get<HalProblemModuleOptions>(
      HAL_PROBLEM_MODULE_OPTIONS,
      { strict: false },
    );
    this.throttlers = HalProblemOpenApi.throttlerNames(app);
    this.throttleFailsClosed =
      options.throttle !== false &&
      options.throttle?.onStorageError === 'fail-closed';
    this.scopesInSecurity = !/^3\.0\./.test(String(document.openapi));
    this.instanceStyle = app.get(ProblemConfig, { strict: false }).instance;
    this.idempotency = app.get(IdempotencyService, { strict: false });
  }

  /** Enhances `document` in place and returns it. Call after `app.init()` or `createDocument()`. */
  static enhance<T extends object>(
    app: INestApplication,
    document: T,
    options: HalProblemOpenApiOptions = {},
  ): T {
    new HalProblemOpenApi(
      app,
      document as unknown as OpenApiDocument,
      options,
    ).run();
    return document;
  }

  private static throttlerNames(app: INestApplication): string[] {
    let options: ThrottlerModuleOptions;
    try {
      options = app.get<ThrottlerModuleOptions>(getOptionsToken(), {
        strict: false,
      });
    } catch {
      return [];
    }
    return throttlerNames(options);
  }

  private run(): void {
    this.routes.onApplicationBootstrap();
    const components = (this.document.components ??= {});
    const schemas = (components.schemas ??= {});
    for (const [name, schema] of Object.entries(BASE_SCHEMAS))
      schemas[name] ??= schema;
    if (this.auth.enabled) {
      (components.securitySchemes ??= {}).bearer ??= {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
      };
    }
    for (const route of this.routes.all()) {
      const operation = this.document.paths[route.template]?.[
        route.method.toLowerCase()
      ] as Operation | undefined;
      if (operation) this.describe(route, operation);
    }
  }

  private describe(route: RouteEntry, operation: Operation): void {
    const handler = (
      route.controller.prototype as Record<
        string,
        (...args: unknown[]) => unknown
      >
    )[route.handlerName];
    const targets = [handler, route.controller];
    const responses = (operation.responses ??= {});
    this.declarePathParameters(route, operation);
    const plan = this.renderer.planFor(route.controller, handler);
    // The guards' own rule, so the document says what the route does.
    const access = routeAccess(this.reflector, [handler, route.controller]);
    const guarded =
      this.auth.enabled &&
      !access.isPublic &&
      (this.auth.options.global === true || access.declaresToken);
    const scopes = access.scopes;
    // The guard's own rule: throttled while one named throttler is not skipped.
    const throttled = this.throttlers.some(
      (name) =>
        !skipsThrottler(this.reflector, name, [handler, route.controller]),
    );
    // As the idempotency step reads it (`@Idempotent()`, or every POST and
    // PATCH with `allUnsafeMethods`): never on a safe method.
    const idempotent = SAFE_METHOD_NAMES.has(route.method)
      ? undefined
      : this.idempotency.routeOptions(handler, route.controller);
    const args = (Reflect.getMetadata(
      ROUTE_ARGS_METADATA,
      route.controller,
      route.handlerName,
    ) ?? {}) as Record<string, { pipes?: unknown[] }>;
    const argKinds = Object.entries(args).map(([key, arg]) => ({
      kind: key.split(':')[0],
      pipes: arg.pipes ?? [],
    }));
    const hasBody = argKinds.some(({ kind }) => kind === ARG_BODY);
    const validated = argKinds.some(
      ({ kind, pipes }) =>
        kind === ARG_BODY ||
        kind === ARG_QUERY ||
        (kind === ARG_PARAM && pipes.length > 0),
    );
    const rateLimitHeaders = throttled
      ? {
          RateLimit: header(
            'Remaining quota and seconds to reset (draft-ietf-httpapi-ratelimit-headers).',
          ),
          'RateLimit-Policy': header(
            'The quota policy: quota and window in seconds.',
          ),
        }
      : {};

    // The success response.
    const skip = this.reflector.getAllAndOverride<boolean>(
      HAL_SKIP_METADATA,
      targets,
    );
    const status = String(plan.status);
    const declared = [
      ...(this.reflector.get<readonly (number | ProblemType)[] | undefined>(
        API_PROBLEM_RESPONSES_METADATA,
        handler,
      ) ?? []),
      ...(this.extra.problemResponses?.({
        method: route.method,
        path: route.template,
      }) ?? []),
    ];
    // @ApiNotImplemented(): a route that never succeeds nor finds anything.
    const notImplemented =
      this.reflector.get<boolean | undefined>(
        API_NOT_IMPLEMENTED_METADATA,
        handler,
      ) === true;
    if (notImplemented) delete responses[status];
    if (!skip && !notImplemented) {
      const metadata = this.reflector.get<ApiHalResponseMetadata | undefined>(
        API_HAL_RESPONSE_METADATA,
        handler,
      );
      const returnType = Reflect.getMetadata(
        'design:returntype',
        route.controller.prototype as object,
        route.handlerName,
      ) as unknown;
      const isPage = metadata?.page ?? returnType === HalPage;
      const successStatus = String(metadata?.status ?? plan.status);
      // No declared return type is how `: void` reads, and also how a handler
      // with none written reads: one that declares HAL (@HalResource, its
      // own @HalLink or @HalEmbedded) still returns a resource.
      const declaresHal =
        !plan.usesInstanceClass ||
        plan.resource.links.length > 0 ||
        plan.resource.embedded.length > 0;
      const nothing =
        returnType === undefined &&
        metadata === undefined &&
        !plan.explicitStatus &&
        !declaresHal;
      if (successStatus === '204' || nothing) {
        responses['204'] = { description: 'No Content' };
        if (!plan.explicitStatus) delete responses[status];
      } else {
        // For a page, the type is that of its items, not of the page itself.
        // A return type that is a resource class (`find(): OrderResource`)
        // names the class whose links the returned instance carries.
        const type = metadata?.type ?? halClass(returnType);
        const shape = this.renderer.describe(
          route.controller,
          handler,
          isPage ? undefined : type,
        );
        const schema = isPage
          ? this.pageSchema(shape)
          : this.resourceSchema(shape, this.stateRef(type));
        const existing = responses[successStatus] ?? {};
        const headers: Schema = {
          ...(existing.headers as Schema | undefined),
          ...rateLimitHeaders,
        };
        if (successStatus === '201' || successStatus === '202') {
          headers.Location = header(
            successStatus === '201'
              ? 'The new resource (its self link).'
              : 'The status monitor.',
          );
        }
        if (successStatus === '202')
          headers['Retry-After'] = header('Seconds to wait before polling.', {
            type: 'integer',
          });
        responses[successStatus] = {
          description:
            metadata?.description ??
            existing.description ??
            reasonPhrase200(successStatus),
          headers,
          // The same body, labelled application/json for clients that ask so.
          content: this.plainJson
            ? {
                [HAL_CONTENT_TYPE]: { schema },
                'application/json': { schema },
              }
            : { [HAL_CONTENT_TYPE]: { schema } },
        };
        if (idempotent && successStatus === '201') {
          responses['200'] = {
            description:
              'A replay of the creation made with the same Idempotency-Key.',
            headers: {
              ...headers,
              'Idempotent-Replayed': header('Always "true" on a replay.'),
            },
            // A replay is labelled for its own request's Accept.
            content: this.plainJson
              ? {
                  [HAL_CONTENT_TYPE]: { schema },
                  'application/json': { schema },
                }
              : { [HAL_CONTENT_TYPE]: { schema } },
          };
        }
      }
    }

    const halResponse = this.reflector.get<ApiHalResponseMetadata | undefined>(
      API_HAL_RESPONSE_METADATA,
      handler,
    );
    const resourceType =
      resolveHalResourceType(
        this.reflector.get<Type | (() => Type) | undefined>(
          HAL_RESOURCE_METADATA,
          handler,
        ),
      ) ?? halResponse?.type;
    // Starts an operation (202) or reads one (its monitor): both ask the
    // operation store, which may be down or, in memory, full.
    const operationRoute =
      resourceType !== undefined && isOperationClass(resourceType);

    // Problem responses.
    const problems = new Map<
      number,
      { schema: Schema; headers?: Schema; description?: string }
    >();
    const add = (
      code: number,
      extra: { schema?: Schema; headers?: Schema; description?: string } = {},
    ) =>
      problems.set(code, {
        schema: extra.schema ?? ref('ProblemDetails'),
        headers: extra.headers,
        description: extra.description,
      });
    // 400s that carry no `errors`: a malformed body, a malformed
    // Authorization header (the auth guard), a malformed Idempotency-Key,
    // an argument's own pipe (`ParseIntPipe` throws a bare 400).
    const otherBadRequests =
      hasBody ||
      guarded ||
      idempotent !== undefined ||
      argKinds.some(({ pipes }) => pipes.length > 0);
    if (validated)
      add(400, {
        schema: otherBadRequests
          ? {
              anyOf: [ref('ValidationProblemDetails'), ref('ProblemDetails')],
            }
          : ref('ValidationProblemDetails'),
        description: otherBadRequests
          ? 'The request failed validation (with errors), or is malformed.'
          : 'The request failed validation.',
      });
    else if (otherBadRequests)
      add(400, { description: 'The request is malformed.' });
    if (hasBody) {
      add(413, { description: 'The body is larger than the server accepts.' });
      add(415, {
        description: 'The body is in a media type this route does not take.',
      });
    }
    if (route.pathParams.length > 0 && !notImplemented) add(404);
    if (guarded) {
      add(401, {
        headers: { 'WWW-Authenticate': header('Bearer challenge (RFC 6750).') },
      });
      if (scopes?.length) {
        add(403, {
          headers: {
            'WWW-Authenticate': header(
              `Bearer error="insufficient_scope", scope="${scopes.join(' ')}"`,
            ),
          },
        });
      }
      operation.security = [
        { bearer: this.scopesInSecurity ? [...(scopes ?? [])] : [] },
      ];
    }
    if (throttled) {
      add(429, {
        headers: {
          'Retry-After': header('Whole seconds to wait.', { type: 'integer' }),
          ...rateLimitHeaders,
        },
      });
    }
    if (idempotent) {
      add(409, {
        description:
          'A request with this Idempotency-Key is still in progress.',
        headers: {
          'Retry-After': header('Seconds to wait.', { type: 'integer' }),
        },
      });
      add(422, {
        description:
          'The Idempotency-Key was used with a different body, or a business rule failed.',
      });
      operation.parameters = [
        ...(operation.parameters ?? []).filter(
          (parameter) => parameter.name !== 'Idempotency-Key',
        ),
        {
          name: 'Idempotency-Key',
          in: 'header',
          required: idempotent.required === true,
          description:
            'Makes the request safe to retry (draft-ietf-httpapi-idempotency-key-header): a structured-field string.',
          schema: { type: 'string', maxLength: 257 },
        },
      ];
    }
    for (const entry of declared)
      add(typeof entry === 'number' ? entry : entry.status);
    // The module's own 503s, each with Retry-After: a store or key source
    // that cannot answer asks the client to retry, never runs unguarded.
    const unavailable = [
      throttled &&
        this.throttleFailsClosed &&
        'the rate-limit storage failed (onStorageError: fail-closed)',
      guarded &&
        this.auth.usesKeyProvider &&
        "the access token's key source is down, too slow or answers no key set",
      idempotent &&
        'the idempotency store cannot answer or is full (with an Idempotency-Key)',
      operationRoute &&
        ((halResponse?.status ?? plan.status) === 202
          ? 'the operation store cannot answer or is full'
          : 'the operation store cannot answer'),
    ].filter((cause): cause is string => typeof cause === 'string');
    // A 503 the app declares too keeps its place among the causes.
    if (unavailable.length > 0 && problems.has(503))
      unavailable.push("a cause of the app's own");
    if (unavailable.length > 0)
      add(503, {
        description: `Temporarily unavailable: ${unavailable.join('; ')}. Retry after Retry-After seconds.`,
        headers: {
          'Retry-After': header('Seconds to wait before retrying.', {
            type: 'integer',
          }),
        },
      });
    add(500, {
      description:
        'An unexpected condition; the detail is generic, never internal.',
    });

    const features: RouteFeatures = {
      guarded,
      scoped: guarded && (scopes?.length ?? 0) > 0,
      idempotent: idempotent !== undefined,
      keyRequired: idempotent?.required === true,
      throttled,
      // A route that answers 202 starts an operation (`start`, never `get`):
      // its 404s are its own resource's, not `operation-not-found`.
      monitor: operationRoute && (halResponse?.status ?? plan.status) !== 202,
      declared: new Set(
        declared.flatMap((entry) =>
          typeof entry === 'number' ? [] : [entry.slug],
        ),
      ),
    };
    for (const [code, problem] of problems) {
      const types = this.typesFor(code, features);
      responses[String(code)] = {
        description: problem.description ?? reasonPhrase(code),
        ...(problem.headers ? { headers: problem.headers } : {}),
        content: {
          [PROBLEM_CONTENT_TYPE]: {
            schema: problem.schema,
            examples: Object.fromEntries(
              types.map((type) => [
                type.slug,
                {
                  summary: type.title,
                  // Every member the schema requires, so the example is
                  // one a client could receive.
                  value: {
                    type: type.type,
                    title: type.title,
                    status: code,
                    detail: type.description ?? genericDetail(code),
                    instance: this.exampleInstance(route),
                  },
                },
              ]),
            ),
          },
        },
      };
    }
  }

  /**
   * Every variable of the path gets a path parameter (OpenAPI 3 §4.8.2:
   * each template expression MUST have one): `@nestjs/swagger` writes one
   * only for a `@Param()` the handler reads, and a handler that ignores its
   * id (`@ApiNotImplemented()`) left the document invalid.
   */
  private declarePathParameters(route: RouteEntry, operation: Operation): void {
    const pathItem = this.document.paths[route.template] as {
      parameters?: Schema[];
    };
    const declared = [
      ...(operation.parameters ?? []),
      ...(pathItem.parameters ?? []),
    ];
    const missing = route.pathParams.filter(
      (name) =>
        !declared.some(
          (parameter) => parameter.in === 'path' && parameter.name === name,
        ),
    );
    if (missing.length === 0) return;
    operation.parameters = [
      ...(operation.parameters ?? []),
      ...missing.map((name) => ({
        name,
        in: 'path',
        required: true,
        schema: { type: 'string' },
      })),
    ];
  }

  /** An `instance` as the module writes it, for an example of `route`. */
  private exampleInstance(route: RouteEntry): string {
    return this.instanceStyle === 'urn-uuid'
      ? 'urn:uuid:00000000-0000-4000-8000-000000000000'
      : route.template.replace(/\{[^}]*\}/g, '1');
  }

  /**
   * The problem types a route can answer with `status`: about:blank, the
   * module's own that its features send, and the app's that its
   * `@ApiProblemResponses` names. An app type the route does not name is
   * left out: the handler's code is not read, and listing every type of
   * the status put `order-not-found` on the reports.
   */
  private typesFor(
    status: number,
    route: RouteFeatures,
  ): { slug: string; type: string; title: string; description?: string }[] {
    const ofStatus = this.catalog
      .list()
      .filter((entry) => entry.status === status);
    return [
      { slug: 'about-blank', type: 'about:blank', title: reasonPhrase(status) },
      ...ofStatus.filter((entry) => {
        const applies = MODULE_PROBLEM_TYPES.get(entry.slug);
        return applies?.(route) === true || route.declared.has(entry.slug);
      }),
    ];
  }

  private stateRef(type: Type | undefined): string | undefined {
    if (!type) return undefined;
    return this.document.components?.schemas?.[type.name]
      ? type.name
      : undefined;
  }

  private linksSchema(shape: HalShape, always: readonly string[] = []): Schema {
    const properties: Record<string, Schema> = {};
    const required = new Set(always);
    for (const link of shape.links) {
      properties[link.rel] = link.array
        ? { type: 'array', items: ref('HalLink') }
        : ref('HalLink');
      if (!link.conditional || link.array) required.add(link.rel);
    }
    for (const rel of always) properties[rel] ??= ref('HalLink');
    if (shape.curies)
      properties.curies = { type: 'array', items: ref('HalLink') };
    return {
      type: 'object',
      required: [...required],
      properties,
      additionalProperties: false,
    };
  }

  private resourceSchema(shape: HalShape, state: string | undefined): Schema {
    const hal: Schema = {
      type: 'object',
      required: ['_links'],
      properties: {
        _links: this.linksSchema(shape, ['self']),
        ...(shape.embedded.length
          ? { _embedded: this.embeddedSchema(shape) }
          : {}),
      },
    };
    return state ? { allOf: [ref(state), hal] } : hal;
  }

  private embeddedSchema(shape: HalShape): Schema {
    const properties: Record<string, Schema> = {};
    for (const embedded of shape.embedded) {
      const item = embedded.item
        ? this.resourceSchema(
            embedded.item,
            this.stateRefByName(embedded.typeName),
          )
        : { type: 'object' };
      const list = { type: 'array', items: item };
      // The writer embeds a list as a list and one resource as an object
      // (draft-kelly-json-hal §4.1.2); a property's declared type says which.
      properties[embedded.rel] =
        embedded.array === true
          ? list
          : embedded.array === false
            ? item
            : { anyOf: [item, list] };
    }
    return { type: 'object', properties };
  }

  private stateRefByName(name: string | undefined): string | undefined {
    return name && this.document.components?.schemas?.[name] ? name : undefined;
  }

  private pageSchema(shape: HalShape): Schema {
    const embedded = shape.embedded[0];
    const rel = embedded?.rel ?? 'items';
    const pageLinks = this.linksSchema(
      {
        ...shape,
        links: shape.links.filter(({ rel: name }) => name !== 'self'),
      },
      ['self', 'first', 'last'],
    );
    (pageLinks.properties as Record<string, Schema>).prev = ref('HalLink');
    (pageLinks.properties as Record<string, Schema>).next = ref('HalLink');
    return {
      type: 'object',
      required: ['_links', 'page', '_embedded'],
      properties: {
        _links: pageLinks,
        page: ref('HalPageMetadata'),
        _embedded: {
          type: 'object',
          required: [rel],
          properties: {
            [rel]: {
              type: 'array',
              items: embedded?.item
                ? this.resourceSchema(
                    embedded.item,
                    this.stateRefByName(embedded.typeName),
                  )
                : { type: 'object' },
            },
          },
        },
      },
    };
  }
}

/** A class that declares HAL links or embedded resources, else undefined. */
function halClass(type: unknown): Type | undefined {
  return typeof type === 'function' &&
    (Reflect.getMetadata(HAL_LINKS_METADATA, type) !== undefined ||
      Reflect.getMetadata(HAL_EMBEDDED_METADATA, type) !== undefined)
    ? (type as Type)
    : undefined;
}

function reasonPhrase200(status: string): string {
  return (
    (
      { '200': 'OK', '201': 'Created', '202': 'Accepted' } as Record<
        string,
        string
      >
    )[status] ?? 'Success'
  );
}
