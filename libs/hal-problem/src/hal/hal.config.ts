import { Inject, Injectable } from '@nestjs/common';
import type { HalProblemModuleOptions } from '../hal-problem-module-options.interface';
import { HAL_PROBLEM_MODULE_OPTIONS } from '../hal-problem.module-definition';
import { checkedTrustProxy, unquote } from '../throttle/client-address';
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
   * `'request'` absolute from the request's scheme and host (`Host`, or
   * HTTP/2's `:authority`); or a fixed
   * public base URL such as `https://api.example.com`.
   */
  readonly links?: string;
  /**
   * Proxies in front of the app, for the scheme, host and prefix of links
   * (`Forwarded`, `X-Forwarded-Proto/Host/Prefix`): `false` (default)
   * ignores those headers, so no request header can change a link. A
   * number N (recommended) is the count of proxies that append to them:
   * each header is read at its element N from the right, the one the
   * outermost trusted proxy wrote, never an element a client put further
   * left; a header with fewer than N elements (a proxy replaced it) is
   * read at its leftmost, as `throttle.trustProxy` reads
   * `X-Forwarded-For`. With a number, a request that
   * carries `X-Forwarded-For`, `-Host` or `-Proto` is read from
   * `X-Forwarded-*` only, any other from `Forwarded` (RFC 7239) only.
   * `true` reads the first (leftmost, client-forgeable) element of each,
   * `Forwarded` first: safe only behind a single proxy that replaces every
   * one of these headers. (Unlike `throttle.trustProxy`, where `true` is 1.)
   */
  readonly trustProxy?: boolean | number;
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

/**
 * `value` without its trailing slashes. A scan from the end rather than
 * `/\/+$/`, which backtracks quadratically on slashes followed by another
 * character: a client's 16 kB `X-Forwarded-Prefix` (the most Node takes)
 * cost `baseUrlFor` about 200 ms, 0.02 ms with the scan (median of 5 calls,
 * plain Node 20).
 */
function withoutTrailingSlashes(value: string): string {
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === 0x2f) end--;
  return end === value.length ? value : value.slice(0, end);
}

function first(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  return raw?.split(',')[0]?.trim() || undefined;
}

/** The first element of a `Forwarded` header (RFC 7239) as a map (`trustProxy: true`). */
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

/**
 * The element `hops` from the right of a list header, the one the
 * outermost of `hops` appending proxies wrote, or the leftmost when the
 * header has fewer (a trusted proxy replaced it rather than appending, so
 * every element is a trusted proxy's; `throttle.trustProxy` and Express
 * read `X-Forwarded-For` the same way); undefined when that element is
 * empty. A client can send as many elements as it likes of a header no
 * trusted proxy writes, so a count guards only headers they write.
 * Lines of the same name count in order, as Node joins them with `, `.
 * Empty elements count too: skipping a proxy's empty element would hand
 * its place to the client's element on its left. Split on every comma
 * before anything is unquoted, as `forwardedFor` does: none of these
 * values holds one, and a quote a client leaves open must not swallow
 * the elements proxies append after its own.
 */
function fromRight(
  value: string | string[] | undefined,
  hops: number,
): string | undefined {
  if (value === undefined) return undefined;
  const elements = (Array.isArray(value) ? value.join(',') : value).split(',');
  return elements[Math.max(elements.length - hops, 0)].trim() || undefined;
}

/**
 * `host` and `proto` of one `Forwarded` element (RFC 7239 §4), unquoted;
 * a malformed value, or a parameter given twice (which §4 forbids), is
 * left out rather than guessed.
 */
function forwardedElement(element: string): { host?: string; proto?: string } {
  const params = new Map<string, string | undefined>();
  for (const pair of element.split(';')) {
    const equals = pair.indexOf('=');
    if (equals <= 0) continue;
    const key = pair.slice(0, equals).trim().toLowerCase();
    params.set(
      key,
      params.has(key) ? undefined : unquote(pair.slice(equals + 1).trim()),
    );
  }
  return { host: params.get('host'), proto: params.get('proto') };
}

/** What trusted proxies say a request asked for; each value is checked by the caller. */
interface Proxied {
  readonly prefix?: string;
  readonly proto?: string;
  readonly host?: string;
}

/** The HAL options, checked and resolved once at bootstrap. */
@Injectable()
export class HalConfig {
  readonly mode: 'path' | 'request' | 'fixed';
  readonly fixedBaseUrl: string;
  /** `false`, `true` (the first element of each header), or a hop count from 1. */
  readonly trustProxy: boolean | number;
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
    const trustProxy = checkedTrustProxy('hal.trustProxy', hal.trustProxy);
    this.trustProxy = trustProxy === 0 ? false : trustProxy;
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
    const proxied = this.proxied(headers, this.mode === 'request');
    let prefix = '';
    const candidate = proxied.prefix && withoutTrailingSlashes(proxied.prefix);
    if (candidate && PREFIX.test(candidate) && !candidate.includes('//'))
      prefix = candidate;
    if (this.mode === 'path') return prefix;
    let { proto, host } = proxied;
    const socket = (request as { socket?: { encrypted?: boolean } }).socket;
    proto =
      proto && PROTO.test(proto)
        ? proto.toLowerCase()
        : socket?.encrypted
          ? 'https'
          : 'http';
    // HTTP/2 clients name the host in `:authority`, and most send no Host
    // (RFC 9113 §8.3.1): Node hands it over as a header of that name.
    host =
      host && HOST.test(host)
        ? host
        : first(headers[':authority'] ?? headers.host);
    // A Host header that is not a host name gives path-absolute links rather than a forged origin.
    if (!host || !HOST.test(host)) return prefix;
    return `${proto}://${host.toLowerCase()}${prefix}`;
  }

  /** The prefix, and with `origin` the scheme and host, the trusted proxies forwarded. */
  private proxied(headers: Headers, origin: boolean): Proxied {
    const trust = this.trustProxy;
    if (trust === false) return {};
    if (trust === true) {
      // As before hop counts: the first element of each, `Forwarded` first.
      const prefix = first(headers['x-forwarded-prefix']);
      if (!origin) return { prefix };
      const standard = forwarded(headers);
      return {
        prefix,
        proto: standard.proto ?? first(headers['x-forwarded-proto']),
        host: standard.host ?? first(headers['x-forwarded-host']),
      };
    }
    const prefix = fromRight(headers['x-forwarded-prefix'], trust);
    if (!origin) return { prefix };
    // A proxy chain writes one family, and a client can send the other with
    // as many elements as it likes, so counting elements cannot tell which
    // one the proxies wrote. X-Forwarded-* wins, as for the throttler's
    // client address: the common proxies append to it (nginx's usual setup
    // only to X-Forwarded-For) and pass a client's `Forwarded` on untouched.
    // The family is chosen by presence, not by count, and never mixed field
    // by field: neither a proxy that writes X-Forwarded-Proto but no -Host
    // nor one that replaces a header (one element, fewer than N) may let a
    // client's `Forwarded: host=` through. Proxies that write only
    // `Forwarded` need the outermost to drop X-Forwarded-* from clients.
    if (
      headers['x-forwarded-for'] !== undefined ||
      headers['x-forwarded-host'] !== undefined ||
      headers['x-forwarded-proto'] !== undefined
    ) {
      return {
        prefix,
        proto: fromRight(headers['x-forwarded-proto'], trust),
        host: fromRight(headers['x-forwarded-host'], trust),
      };
    }
    const element = fromRight(headers.forwarded, trust);
    return { prefix, ...(element ? forwardedElement(element) : {}) };
  }
}
