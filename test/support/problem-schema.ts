import Ajv from 'ajv';

/** RFC 9457 as this library sends it: the five members always, extensions allowed. */
export const PROBLEM_SCHEMA = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'instance'],
  properties: {
    type: {
      type: 'string',
      pattern: '^(about:blank|[A-Za-z][A-Za-z0-9+.-]*:.+)$',
    },
    title: { type: 'string', minLength: 1 },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string', minLength: 1 },
    instance: { type: 'string', minLength: 1 },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['title', 'detail'],
        properties: {
          title: { type: 'string' },
          detail: { type: 'string' },
          pointer: { type: 'string' },
        },
      },
    },
  },
  not: {
    anyOf: [
      { required: ['statusCode'] },
      { required: ['stack'] },
      { required: ['message'] },
    ],
  },
};

export const validateProblem = new Ajv({ allErrors: true }).compile(
  PROBLEM_SCHEMA,
);
