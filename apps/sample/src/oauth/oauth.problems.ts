import { defineProblemType } from 'nestjs-hal-problem';

/** RFC 6749 §5.2 token endpoint errors, each a problem type carrying the OAuth `error` code. */
export const OAuthInvalidRequest = defineProblemType({
  slug: 'oauth-invalid-request',
  title: 'Invalid token request',
  status: 400,
  description:
    'The token request is missing a parameter, repeats one, or is otherwise malformed.',
});
export const OAuthInvalidClient = defineProblemType({
  slug: 'oauth-invalid-client',
  title: 'Client authentication failed',
  status: 401,
  description:
    'The client id or secret is wrong, or the client authenticated in more than one way.',
});
export const OAuthUnsupportedGrantType = defineProblemType({
  slug: 'oauth-unsupported-grant-type',
  title: 'Unsupported grant type',
  status: 400,
  description: 'This server supports only the client_credentials grant.',
});
export const OAuthInvalidScope = defineProblemType({
  slug: 'oauth-invalid-scope',
  title: 'Invalid scope',
  status: 400,
  description: 'A requested scope is unknown or not granted to this client.',
});
