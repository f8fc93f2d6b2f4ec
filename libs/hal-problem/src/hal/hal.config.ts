import { Inject, Injectable } from '@nestjs/common';
import type { HalProblemModuleOptions } from '../hal-problem-module-options.interface';
import { HAL_PROBLEM_MODULE_OPTIONS } from '../hal-problem.module-definition';
import { IANA_LINK_RELATIONS } from './hal.constants';

/** A CURIE: a compact name for a family of documented link relations. */
export interface HalCurie {
  /** The prefix used in rels, e.g. `acme` for `acme:widgets`. */
  readonly name: string;
  /** The documentation URI template, with `{rel}`, e.g. `https://docs.acme.com/rels/{rel}`. */
  readonly href: string;
}

/** Options of the HAL side of the module. */
export interface HalOptions {
  /**
   * How links are written: `'path'` (default) path-absolute (`/orders/42`);
   * `'request'` absolute from the request's scheme and host; or a fixed
   * public base URL such as `https://api.example.com`.
   */
  readonly links?: string;
  /**
   * Honour `Forwarded` and `X-Forwarded-Proto/Host/Prefix` when building
   * links. Only behind a proxy that sets them: otherwise any client could
   * change the links it receives.
   */
  readonly trustProxy?: boolean;
  /** Extension relation types of this API (`orders`, `cancel`…), besides IANA's and URIs. */
  readonly relations?: readonly string[];
  /** CURIEs; a `curies` link is sent only when a curied rel is used. */
  readonly curies?: readonly HalCurie[];
  /**
   * Whether a client whose `Accept` names `application/json` but not HAL
   * (or refuses HAL with `q=0`) gets the same body labelled
   * `application/json` (default `true`). `false`: every HAL body is
   * `application/hal+json`, as a contract that says so requires, and `Vary`
   * no longer names `Accept`.
   */
  readonly plainJson?: boolean;
}

const ABSOLUTE_URL = /^https?:\/\/[^\s/?#]+(?:\/[^\s?#]*)?$/i;
// Extension rels are URIs (RFC 8288 §2.1.2); `prefix:name` with an unknown prefix is more
// likely a mistyped CURIE than a URI, so only hierarchical, urn: and tag: URIs pass.
const URI = /^(?:[a-z][a-z0-9+.-]*:\/\/\S+|(?:urn|tag):\S+)$/i;
const HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;
const PROTO = /^https?$/i;
const PREFIX = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/;

type Headers = Record<string, string | string[] | undefined>;

function first(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  return raw?.split(',')[0]?.trim() || undefined;
}

/** The first element of a `Forwarded` header (RFC 7239) as a map. */
function forwarded(headers: Headers): Record<string, string> {
  const element = first(headers.forwarded);
  const pairs: Record<string, string> = {};
  for (const pair of element?.split(';') ?? []) {
    const [key, value] = pair.split('=');
    if (key && value)
      pairs[key.trim().toLowerCase()] = value.trim().replace(/^"|"$/g, '');
  }
  return pairs;
}

/** The HAL options, checked and resolved once at bootstrap. */
@Injectable()
export class HalConfig {
  readonly mode: 'path' | 'request' | 'fixed';
  readonly fixedBaseUrl: string;
  readonly trustProxy: boolean;
  readonly relations: ReadonlySet<string>;
  readonly curies: ReadonlyMap<string, string>;
  readonly plainJson: boolean;

  constructor(
    @Inject(HAL_PROBLEM_MODULE_OPTIONS) options: HalProblemModuleOptions = {},
  ) {
    const hal = options.hal ?? {};
    const links = hal.links ?? 'path';
    this.mode = links === 'path' || links === 'request' ? links : 'fixed';
    if (this.mode === 'fixed' && !ABSOLUTE_URL.test(links)) {
      throw new Error(
        `HalProblemModule: hal.links must be 'path', 'request' or an http(s) URL, got "${links}"`,
      );
    }
    this.fixedBaseUrl = this.mode === 'fixed' ? links.replace(/\/+$/, '') : '';
    this.trustProxy = hal.trustProxy ?? false;
    this.plainJson = hal.plainJson ?? true;
    // `result` is the library's own rel for finished operations (see @HalOperation).
    this.relations = new Set(['result', ...(hal.relations ?? [])]);
    const curies = new Map<string, string>();
    for (const curie of hal.curies ?? []) {
      if (
        !/^[a-z][a-z0-9_-]*$/i.test(curie.name) ||
        !curie.href.includes('{rel}')
      ) {
        throw new Error(
          `HalProblemModule: CURIE "${curie.name}" needs a simple name and an href with {rel}`,
        );
      }
      curies.set(curie.name, curie.href);
    }
    this.curies = curies;
  }

  /** Fails the start on a rel that is not registered, a URI, or a declared CURIE. */
  assertRelation(rel: string, where: string): void {
    if (IANA_LINK_RELATIONS.has(rel) || this.relations.has(rel)) return;
    const colon = rel.indexOf(':');
    if (colon > 0 && (this.curies.has(rel.slice(0, colon)) || URI.test(rel)))
      return;
    throw new Error(
      `HAL relation "${rel}" on ${where} is not an IANA link relation, a URI, a declared CURIE, or listed in the module's hal.relations`,
    );
  }

  /** What goes before a path-absolute href, for this request. */
  baseUrlFor(request: unknown): string {
    if (this.mode === 'fixed') return this.fixedBaseUrl;
    const headers =
      (request as { headers?: Headers } | undefined)?.headers ?? {};
    let prefix = '';
    if (this.trustProxy) {
      const candidate = first(headers['x-forwarded-prefix'])?.replace(
        /\/+$/,
        '',
      );
      if (candidate && PREFIX.test(candidate) && !candidate.includes('//'))
        prefix = candidate;
    }
    if (this.mode === 'path') return prefix;
    let proto: string | undefined;
    let host: string | undefined;
    if (this.trustProxy) {
      const standard = forwarded(headers);
      proto = standard.proto ?? first(headers['x-forwarded-proto']);
      host = standard.host ?? first(headers['x-forwarded-host']);
    }
    const socket = (request as { socket?: { encrypted?: boolean } }).socket;
    proto =
      proto && PROTO.test(proto)
        ? proto.toLowerCase()
        : socket?.encrypted
          ? 'https'
          : 'http';
    host = host && HOST.test(host) ? host : first(headers.host);
    // A Host header that is not a host name gives path-absolute links rather than a forged origin.
    if (!host || !HOST.test(host)) return prefix;
    return `${proto}://${host.toLowerCase()}${prefix}`;
  }
}
