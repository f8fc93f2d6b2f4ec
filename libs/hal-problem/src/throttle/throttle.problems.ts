import { defineProblemType } from '../problem/problem-type';

/** The IANA-registered problem type for an exceeded quota (RFC 9457 registry). */
export const QuotaExceeded = defineProblemType({
  slug: 'quota-exceeded',
  uri: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
  title: 'Request cannot be satisfied as assigned quota has been exceeded',
  status: 429,
  description:
    'Too many requests in the current window. Wait for Retry-After seconds before trying again.',
});
