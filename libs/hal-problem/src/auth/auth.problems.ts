import { defineProblemType } from '../problem/problem-type';

/** No credentials were presented (RFC 6750 §3.1: no error code). */
export const AuthenticationRequired = defineProblemType({
  slug: 'authentication-required',
  title: 'Authentication required',
  status: 401,
  description:
    'Send an access token in the Authorization header: `Authorization: Bearer <token>`.',
});

/** A token was presented and rejected: `error="invalid_token"`. */
export const InvalidToken = defineProblemType({
  slug: 'invalid-token',
  title: 'Invalid access token',
  status: 401,
  description:
    'The access token is malformed, expired, not yet valid, signed with another key or algorithm, or meant for another issuer or audience. Get a new token.',
});

/** The request itself is malformed: `error="invalid_request"`. */
export const InvalidAuthorizationRequest = defineProblemType({
  slug: 'invalid-authorization-request',
  title: 'Invalid authorization request',
  status: 400,
  description:
    'The Authorization header is malformed, sent more than once, or the token was sent somewhere other than the Authorization header.',
});

/** The token is valid but lacks a scope: `error="insufficient_scope"`. */
export const InsufficientScope = defineProblemType({
  slug: 'insufficient-scope',
  title: 'Insufficient scope',
  status: 403,
  description:
    'The access token is valid but does not grant the scopes this request needs.',
});
