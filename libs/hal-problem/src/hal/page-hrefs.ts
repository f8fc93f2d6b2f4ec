/** Characters `application/x-www-form-urlencoded` serializes as they are. */
const FORM_PLAIN = /^[A-Za-z0-9*\-._]+$/;
/** A query whose names and values need no decoding or encoding. */
const PLAIN_QUERY = /^[A-Za-z0-9*\-._=&]*$/;
/** A path `new URL` leaves as it is: nothing to encode, not `//host`. */
const PLAIN_PATH = /^\/(?!\/)[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;
const DOT_SEGMENT = /(^|\/)\.\.?(\/|$)/;

const unchanged = (href: string): string => href;

/** A page number as a query value (`1e+21` is one too). */
function pageValue(page: number): string {
  // Every page number in practice: digits only, nothing to test.
  if (Number.isSafeInteger(page) && page >= 0) return String(page);
  const value = String(page);
  return FORM_PLAIN.test(value)
    ? value
    : new URLSearchParams([['', value]]).toString().slice(1);
}

/**
 * The href of each page of a paged request: its URL with the page and size
 * parameters set, the others kept as they are and where they are. Gives the
 * same result as setting both parameters on the URL's `searchParams` (a
 * property spec checks it); the query is parsed once, not per link.
 */
export function pageHrefs(
  selfHref: string,
  pageParam: string,
  sizeParam: string,
  size: number,
  finish: (href: string) => string = unchanged,
): (page: number) => string {
  return (
    plainPageHrefs(selfHref, pageParam, sizeParam, size, finish) ??
    parsedPageHrefs(selfHref, pageParam, sizeParam, size, finish)
  );
}

/**
 * The common case without `URL`: a path and query made only of characters
 * that parse and serialize to themselves, so splitting on `&` is the whole
 * parse. Parsing with `URL` and `URLSearchParams` was most of the cost of a
 * page's links (profiled, docs/performance.md). Undefined for anything else.
 */
function plainPageHrefs(
  selfHref: string,
  pageParam: string,
  sizeParam: string,
  size: number,
  finish: (href: string) => string,
): ((page: number) => string) | undefined {
  const mark = selfHref.indexOf('?');
  const path = mark === -1 ? selfHref : selfHref.slice(0, mark);
  const query = mark === -1 ? '' : selfHref.slice(mark + 1);
  const sizeValue = String(size);
  if (
    !PLAIN_PATH.test(path) ||
    DOT_SEGMENT.test(path) ||
    !PLAIN_QUERY.test(query) ||
    !FORM_PLAIN.test(pageParam) ||
    !FORM_PLAIN.test(sizeParam) ||
    !FORM_PLAIN.test(sizeValue)
  )
    return undefined;
  // `set` keeps the first pair of a name where it is and drops the others;
  // a name not there is appended (the page first: it is set first).
  const before: string[] = [];
  const after: string[] = [];
  let pageSeen = false;
  let sizeSeen = false;
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    if (equals !== -1 && pair.indexOf('=', equals + 1) !== -1) return undefined; // `=` in a value is encoded
    const name = equals === -1 ? pair : pair.slice(0, equals);
    let part: string;
    if (name === pageParam) {
      pageSeen = true;
      continue;
    }
    if (name === sizeParam) {
      if (sizeSeen) continue;
      sizeSeen = true;
      part = `${sizeParam}=${sizeValue}`;
    } else part = equals === -1 ? `${pair}=` : pair;
    (pageSeen ? after : before).push(part);
  }
  if (!sizeSeen) after.push(`${sizeParam}=${sizeValue}`);
  const head = `${path}?${before.map((part) => `${part}&`).join('')}${pageParam}=`;
  const tail = after.map((part) => `&${part}`).join('');
  return (page) => finish(head + pageValue(page) + tail);
}

/** Any other URL, parsed with `URL`; the query is still serialized once. */
function parsedPageHrefs(
  selfHref: string,
  pageParam: string,
  sizeParam: string,
  size: number,
  finish: (href: string) => string,
): (page: number) => string {
  const url = new URL(selfHref, 'http://placeholder');
  const params = url.searchParams;
  params.set(pageParam, '1');
  params.set(sizeParam, String(size));
  const pageKey = `${new URLSearchParams([[pageParam, '']]).toString()}`;
  let seenPage = false;
  const parts: (string | undefined)[] = [];
  for (const [name, value] of params) {
    // `set` left exactly one page parameter: its value is filled in per link.
    if (name === pageParam && !seenPage) {
      seenPage = true;
      parts.push(undefined);
    } else parts.push(new URLSearchParams([[name, value]]).toString());
  }
  const path = `${url.pathname}?`;
  return (page) =>
    finish(
      path +
        parts.map((part) => part ?? `${pageKey}${pageValue(page)}`).join('&'),
    );
}
