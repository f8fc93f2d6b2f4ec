export { HalProblemModule } from './hal-problem.module';
export { HAL_PROBLEM_EXPOSED_HEADERS } from './hal-problem.constants';
export type {
  HalProblemModuleOptions,
  ProblemErrorContext,
  ProblemErrorMapper,
  ProblemInstanceStyle,
  ProblemValidationOptions,
} from './hal-problem-module-options.interface';
export type { HalProblemModuleExtras } from './hal-problem.module-definition';
export type {
  ProblemDetails,
  ProblemFieldError,
} from './problem/problem-details.interface';
export {
  defineProblemType,
  type ProblemType,
  type ProblemTypeDefinition,
} from './problem/problem-type';
export {
  ProblemTypeCatalog,
  type ProblemTypeEntry,
} from './problem/problem-type.catalog';
export {
  ProblemException,
  ValidationProblemException,
  type ProblemExceptionOptions,
} from './problem/problem.exception';
export {
  ProblemExceptionFilter,
  PROBLEM_CONTENT_TYPE,
} from './problem/problem-exception.filter';
export {
  ProblemMapper,
  type ProblemResponse,
  type ProblemRequestContext,
} from './problem/problem.mapper';
export { ProblemValidationPipe } from './problem/problem-validation.pipe';
export { Consumes } from './problem/consumes.decorator';
export { reasonPhrase } from './problem/http-status';
export {
  useStrictBodyParsing,
  BodyParseError,
  type StrictBodyParsingOptions,
} from './problem/body-parsing';
export { problemFrameworkErrors } from './problem/fastify-framework-errors';
export { problemClientErrors } from './problem/client-errors';
export { HalLink } from './hal/hal-link.decorator';
export {
  HalEmbedded,
  type HalEmbeddedOptions,
} from './hal/hal-embedded.decorator';
export { HalResource, SkipHal } from './hal/hal-resource.decorator';
export { HalPage, type HalPageMeta, type HalPageOptions } from './hal/hal-page';
export type {
  HalContext,
  HalLinkObject,
  HalLinkOptions,
  HalRouteReference,
  HalTemplateValue,
  HandlerName,
} from './hal/hal-link.interface';
export type { HalCurie, HalOptions } from './hal/hal.config';
export { HAL_CONTENT_TYPE } from './hal/hal.constants';
export { HalRenderer } from './hal/hal.renderer';
export { RouteTable, type RouteEntry } from './routing/route-table';
export {
  Operation,
  type OperationRecord,
  type OperationStatus,
} from './operations/operation';
export {
  OPERATION_STORE,
  type OperationStore,
} from './operations/operation-store.interface';
export {
  InMemoryOperationStore,
  type InMemoryOperationStoreOptions,
} from './operations/in-memory-operation.store';
export {
  OperationsService,
  OperationNotFound,
  type OperationOutcome,
  type OperationsOptions,
  type StartOperationOptions,
  type GetOperationOptions,
} from './operations/operations.service';
export {
  HalOperation,
  type HalOperationOptions,
} from './operations/hal-operation.decorator';
export type {
  AuthPrincipal,
  JwtAuthOptions,
  SecretOrKeyProvider,
} from './auth/auth-options.interface';
export {
  Authenticated,
  Principal,
  Public,
  Scopes,
} from './auth/auth.decorators';
export {
  AuthenticationRequired,
  InsufficientScope,
  InvalidAuthorizationRequest,
  InvalidToken,
} from './auth/auth.problems';
export { AuthConfig, KeySourceError } from './auth/auth.config';
export {
  jwksKeyProvider,
  type JwksSigningKeySource,
} from './auth/jwks.key-provider';
export { jwksFetcher, type JwksFetcherOptions } from './auth/jwks.fetcher';
export { JwtAuthGuard } from './auth/jwt-auth.guard';
export { ScopesGuard } from './auth/scopes.guard';
export { bearerChallenge, type BearerError } from './auth/bearer-challenge';
export type { HalThrottleOptions } from './throttle/throttle-options.interface';
export { HalThrottlerGuard } from './throttle/hal-throttler.guard';
export { RedisThrottlerStorage } from './throttle/redis-throttler.storage';
export {
  InMemoryThrottlerStorage,
  type InMemoryThrottlerStorageOptions,
} from './throttle/in-memory-throttler.storage';
export { QuotaExceeded } from './throttle/throttle.problems';
export { clientAddress } from './throttle/client-address';
export {
  rateLimitHeaders,
  type RateLimitState,
} from './throttle/rate-limit-headers';
export { RedisOperationStore } from './operations/redis-operation.store';
export type {
  IdempotencyOptions,
  IdempotentOptions,
} from './idempotency/idempotency-options.interface';
export { Idempotent } from './idempotency/idempotent.decorator';
export {
  IDEMPOTENCY_STORE,
  type IdempotencyRecord,
  type IdempotencyStore,
  type StoredResponse,
} from './idempotency/idempotency-store.interface';
export {
  InMemoryIdempotencyStore,
  type InMemoryIdempotencyStoreOptions,
} from './idempotency/in-memory-idempotency.store';
export { RedisIdempotencyStore } from './idempotency/redis-idempotency.store';
export {
  IdempotencyKeyInvalid,
  IdempotencyKeyMissing,
  IdempotencyKeyReused,
  IdempotencyRequestInFlight,
} from './idempotency/idempotency.problems';
export { canonicalJson, fingerprintOf } from './idempotency/canonical-json';
export {
  ApiHalResponse,
  type ApiHalResponseOptions,
} from './openapi/api-hal-response.decorator';
export { ApiProblemResponses } from './openapi/api-problem-responses.decorator';
export { ApiNotImplemented } from './openapi/api-not-implemented.decorator';
export {
  HalProblemOpenApi,
  type HalProblemOpenApiOptions,
  type OpenApiDocument,
} from './openapi/hal-problem-openapi';
export type { HalShape, LinkShape } from './hal/hal.renderer';
export { ensureRequestId, isWellFormedRequestId } from './problem/request-id';
