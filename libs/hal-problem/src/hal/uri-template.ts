import { parseTemplate, type PrimitiveValue } from 'url-template';

/** Values an RFC 6570 template can expand. */
export type TemplateValues = Record<string, PrimitiveValue | PrimitiveValue[]>;

/** A template compiled once, expanded per request. */
export interface CompiledTemplate {
  expand(values: TemplateValues): string;
  /**
   * Expands with the values `source` has for the template's variables, or
   * gives undefined when one of them has no value a template can expand
   * (a string, number, boolean or an array of those). Reads `source` in
   * place: no object of values is built per link.
   */
  expandFrom(source: Readonly<Record<string, unknown>>): string | undefined;
}

const TEMPLATE_VARIABLES = /\{[+#./;?&]?([^}]+)\}/g;

/** The names of a template's variables, modifiers (`:3`, `*`) removed. */
export function templateVariables(template: string): string[] {
  const names: string[] = [];
  for (const match of template.matchAll(TEMPLATE_VARIABLES)) {
    for (const part of match[1].split(','))
      names.push(part.replace(/[:*].*$/, '').trim());
  }
  return names;
}

const QUERY_EXPRESSIONS = /\{[?&]([^}]+)\}/g;

/**
 * Variables that only appear in form-style query expressions (`{?q,lang}`,
 * `{&page}`): a missing one is left out of the expansion (RFC 6570 §3.2.1),
 * where a missing path variable leaves the link a template to fill in.
 */
function optionalVariables(template: string): ReadonlySet<string> {
  const inQuery = new Set<string>();
  for (const match of template.matchAll(QUERY_EXPRESSIONS)) {
    for (const part of match[1].split(','))
      inQuery.add(part.replace(/[:*].*$/, '').trim());
  }
  const elsewhere = template.replace(QUERY_EXPRESSIONS, '');
  for (const name of templateVariables(elsewhere)) inQuery.delete(name);
  return inQuery;
}

function isPrimitive(value: unknown): value is PrimitiveValue {
  return (
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  );
}

/** A value a template variable can be expanded with. */
function isExpandable(
  value: unknown,
): value is PrimitiveValue | PrimitiveValue[] {
  return (
    isPrimitive(value) || (Array.isArray(value) && value.every(isPrimitive))
  );
}

const SIMPLE_EXPRESSION = /^\{(\+?)([A-Za-z0-9_]+)\}$/;
const PARTS = /(\{[^{}]*\})/;

/**
 * Whether a value is made only of RFC 3986 unreserved characters (most ids).
 * A loop rather than a regular expression: for the short values of links
 * the call of `RegExp.prototype.test` was most of the check (bench:instructions,
 * page of 20 on Fastify: about 10k of ~584k instructions per request).
 */
function isUnreserved(value: string): boolean {
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (
      (code >= 0x61 && code <= 0x7a) || // a-z
      (code >= 0x41 && code <= 0x5a) || // A-Z
      (code >= 0x30 && code <= 0x39) || // 0-9
      code === 0x2d || // -
      code === 0x2e || // .
      code === 0x5f || // _
      code === 0x7e // ~
    )
      continue;
    return false;
  }
  return true;
}

/**
 * A lone surrogate (a value from a JSON body may hold one) becomes U+FFFD:
 * `encodeURIComponent` would throw a URIError while a response is rendered.
 * (`String.prototype.toWellFormed` is Node 20's, not yet in the ES2023 lib.)
 */
function wellFormed(value: string): string {
  return (value as string & { toWellFormed(): string }).toWellFormed();
}

/** RFC 6570 simple expansion: everything but unreserved characters is percent-encoded. */
function encodeUnreserved(value: string): string {
  if (isUnreserved(value)) return value; // most ids: nothing to encode
  return encodeURIComponent(wellFormed(value)).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** RFC 6570 reserved expansion: reserved characters and pct-encoded triplets stay as they are. */
export function encodeReserved(value: string): string {
  return value
    .split(/(%[0-9A-Fa-f]{2})/g)
    .map((part) =>
      /^%[0-9A-Fa-f]{2}$/.test(part)
        ? part
        : encodeURI(wellFormed(part)).replace(/%5B/g, '[').replace(/%5D/g, ']'),
    )
    .join('');
}

function stringify(
  value: PrimitiveValue | PrimitiveValue[] | undefined,
  encode: (value: string) => string,
): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value))
    return value
      .filter((item) => item !== null)
      .map((item) => encode(String(item)))
      .join(',');
  return encode(String(value));
}

/**
 * A template's literal text as its expansion writes it (RFC 6570 §3.1):
 * reserved characters and `%XX` triplets stay, anything else (`é`, a space)
 * is percent-encoded as UTF-8. A path such as `@Controller('cafés')` made a
 * link that is no URI and a `Location` Node refuses to send (an emoji) or
 * sends as a raw byte (`é`).
 */
export function encodeLiterals(template: string): string {
  return template
    .split(PARTS)
    .map((part) => (part.startsWith('{') ? part : encodeReserved(part)))
    .join('');
}

/**
 * Compiles an RFC 6570 template. `url-template` (the well-tested expander
 * used for the general case) re-scans the template with a regular
 * expression on every expansion, which showed as the largest cost of
 * rendering a page of resources. Templates made only of `{var}` and `{+var}`
 * (every route template is) are split once here and expanded by
 * concatenation; any other template is expanded by `url-template`.
 */
export function compileUriTemplate(template: string): CompiledTemplate {
  const parts = template.split(PARTS).filter((part) => part !== '');
  const compiled: (string | { name: string; reserved: boolean })[] = [];
  for (const part of parts) {
    if (!part.startsWith('{')) {
      compiled.push(part);
      continue;
    }
    const simple = SIMPLE_EXPRESSION.exec(part);
    if (!simple) return withUrlTemplate(template);
    compiled.push({ name: simple[2], reserved: simple[1] === '+' });
  }
  return {
    expand(values: TemplateValues): string {
      let result = '';
      for (const part of compiled) {
        result +=
          typeof part === 'string'
            ? part
            : stringify(
                values[part.name],
                part.reserved ? encodeReserved : encodeUnreserved,
              );
      }
      return result;
    },
    expandFrom(source: Readonly<Record<string, unknown>>): string | undefined {
      let result = '';
      for (const part of compiled) {
        if (typeof part === 'string') {
          result += part;
          continue;
        }
        const value = source[part.name];
        if (!isExpandable(value)) return undefined;
        result += stringify(
          value,
          part.reserved ? encodeReserved : encodeUnreserved,
        );
      }
      return result;
    },
  };
}

/**
 * RFC 6570 §2.3: a list of no members is undefined. url-template expands
 * `{?tags}` with `[]` as `?tags=`; without the member it is `""`.
 */
function withoutEmptyLists(values: TemplateValues): TemplateValues {
  let defined: TemplateValues | undefined;
  for (const name of Object.keys(values)) {
    const value = values[name];
    if (!Array.isArray(value) || value.length > 0) continue;
    defined ??= { ...values };
    delete defined[name];
  }
  return defined ?? values;
}

/**
 * A value as `url-template` can take it: text, well-formed. It calls string
 * methods on list members (a number in `{#ids}` threw), and its encoding
 * throws a URIError on a lone surrogate.
 */
function asText(value: PrimitiveValue | PrimitiveValue[]): string | string[] {
  return Array.isArray(value)
    ? value.map((member) => wellFormed(String(member)))
    : wellFormed(String(value));
}

const RESERVED_EXPRESSION = /^\{([+#])([^{}]*)\}$/;
const VARIABLE_SPEC = /^([^:*]+)(?::(\d+)|\*)?$/;

/**
 * A `{+var}` or `{#var}` expression (RFC 6570 §3.2.3, §3.2.4), expanded with
 * the module's `encodeReserved`: url-template's leaves a value as it is when
 * it holds a `%` and one hex digit (`50%e`, or `é%a b`), so the link carried
 * a raw `%`, spaces and non-ASCII, which is no URI. Values reach here as text.
 */
function reservedExpansion(
  operator: string,
  list: string,
): ((values: TemplateValues) => string) | undefined {
  const specs: { name: string; prefix: number | undefined }[] = [];
  for (const spec of list.split(',')) {
    const match = VARIABLE_SPEC.exec(spec.trim());
    if (!match) return undefined;
    specs.push({
      name: match[1],
      prefix: match[2] === undefined ? undefined : Number(match[2]),
    });
  }
  const first = operator === '#' ? '#' : '';
  return (values) => {
    const expanded: string[] = [];
    for (const { name, prefix } of specs) {
      const value = values[name];
      if (value === undefined || value === null) continue;
      if (Array.isArray(value)) {
        const members = value.filter((member) => member !== null);
        if (members.length > 0)
          expanded.push(
            members.map((member) => encodeReserved(String(member))).join(','),
          );
        continue;
      }
      const text = String(value);
      // A prefix counts characters (§2.4.1), so it never splits a pair.
      expanded.push(
        encodeReserved(
          prefix === undefined ? text : [...text].slice(0, prefix).join(''),
        ),
      );
    }
    return expanded.length > 0 ? first + expanded.join(',') : '';
  };
}

/**
 * The template's expander: each `{+…}`/`{#…}` expression by
 * `reservedExpansion`, every other part by url-template.
 */
function expanderOf(template: string): {
  expand(values: TemplateValues): string;
} {
  const parts = template
    .split(PARTS)
    .filter((part) => part !== '')
    .map((part) => {
      const reserved = RESERVED_EXPRESSION.exec(part);
      const own = reserved && reservedExpansion(reserved[1], reserved[2]);
      if (own) return own;
      const parsed = parseTemplate(part);
      return (values: TemplateValues) => parsed.expand(values);
    });
  return {
    expand: (values) => parts.map((part) => part(values)).join(''),
  };
}

/**
 * Any other RFC 6570 template, expanded by `url-template` (but for its
 * reserved expressions, above). A prefix
 * (`{name:1}`) is cut in UTF-16 units there and can split a surrogate pair,
 * which its encoding refuses: such a link is sent as its template
 * (`undefined`) rather than failing the response.
 */
function withUrlTemplate(template: string): CompiledTemplate {
  const parsed = expanderOf(template);
  const variables = templateVariables(template);
  const optional = optionalVariables(template);
  const expand = (values: TemplateValues): string | undefined => {
    try {
      return parsed.expand(values);
    } catch (error) {
      if (error instanceof URIError) return undefined;
      throw error;
    }
  };
  return {
    expand(values) {
      const defined = withoutEmptyLists(values);
      const text: TemplateValues = {};
      for (const name of Object.keys(defined)) {
        const value = defined[name];
        text[name] = isExpandable(value) ? asText(value) : value;
      }
      return expand(text) ?? template;
    },
    expandFrom(source) {
      const values: TemplateValues = {};
      for (const name of variables) {
        const value = source[name];
        if ((value === undefined || value === null) && optional.has(name))
          continue;
        if (!isExpandable(value)) return undefined;
        if (Array.isArray(value) && value.length === 0) continue;
        values[name] = asText(value);
      }
      return expand(values);
    },
  };
}
