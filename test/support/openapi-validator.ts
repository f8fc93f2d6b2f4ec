import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

type Json = Record<string, any>;

/**
 * Checks real responses against the OpenAPI document the app serves: the
 * documented schema of (method, path template, status, media type) must
 * accept the body the app actually sent.
 */
export class OpenApiResponseValidator {
  private readonly ajv: Ajv;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(private readonly document: Json) {
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    // OpenAPI 3.0 schemas are JSON Schema plus a few keywords ajv can ignore.
    this.ajv.addSchema(
      { $id: 'openapi', components: document.components },
      'openapi',
    );
  }

  /** Throws a readable error when the body does not match; returns the media type used. */
  check(
    method: string,
    template: string,
    response: Response,
    body: unknown,
  ): string {
    const operation = this.document.paths?.[template]?.[
      method.toLowerCase()
    ] as Json | undefined;
    if (!operation) throw new Error(`${method} ${template} is not documented`);
    const documented = operation.responses?.[String(response.status)] as
      Json | undefined;
    if (!documented) {
      throw new Error(
        `${method} ${template} does not document status ${response.status}: ${Object.keys(operation.responses ?? {}).join(', ')}`,
      );
    }
    if (response.status === 204 || body === undefined) return 'none';
    const mediaType = (response.headers.get('content-type') ?? '')
      .split(';')[0]
      .trim();
    const content = documented.content?.[mediaType] as Json | undefined;
    if (!content?.schema)
      throw new Error(
        `${method} ${template} ${response.status} documents no ${mediaType} body`,
      );
    const key = `${method} ${template} ${response.status} ${mediaType}`;
    let validate = this.cache.get(key);
    if (!validate) {
      const schema = JSON.parse(
        JSON.stringify(content.schema).replace(
          /"#\/components\//g,
          '"openapi#/components/',
        ),
      );
      validate = this.ajv.compile(schema);
      this.cache.set(key, validate);
    }
    if (!validate(body)) {
      throw new Error(
        `${key}: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(body, null, 2)}`,
      );
    }
    return mediaType;
  }
}
