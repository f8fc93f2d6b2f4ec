import { defineProblemType } from '../problem/problem-type';

/** 400: the Idempotency-Key header is not a valid key. */
export const IdempotencyKeyInvalid = defineProblemType({
  slug: 'idempotency-key-invalid',
  title: 'Invalid Idempotency-Key',
  status: 400,
  description:
    'The Idempotency-Key header must be a string of 1 to 255 printable characters, e.g. "8e03978e-40d5-43e8-bc93-6894a57f9324".',
});

/** 400: the route requires an Idempotency-Key and none was sent. */
export const IdempotencyKeyMissing = defineProblemType({
  slug: 'idempotency-key-missing',
  title: 'Idempotency-Key required',
  status: 400,
  description:
    'This request must carry an Idempotency-Key header, so that it can be retried safely.',
});

/** 409: the first request with this key has not finished. */
export const IdempotencyRequestInFlight = defineProblemType({
  slug: 'idempotency-request-in-flight',
  title: 'A request with this Idempotency-Key is in progress',
  status: 409,
  description:
    'The first request with this key has not finished. Retry after Retry-After seconds to get its outcome.',
});

/** 422: the key was used with a different request body. */
export const IdempotencyKeyReused = defineProblemType({
  slug: 'idempotency-key-reused',
  title: 'Idempotency-Key reused for a different request',
  status: 422,
  description:
    'This key was used with a different request body. Use a new key for a new request.',
});
