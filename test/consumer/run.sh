#!/usr/bin/env bash
# The consumer test: pack the library, install the tarball in a scratch Nest
# app outside the monorepo (once per supported Nest major), and check the
# contract over HTTP. Run by .ci/run, not by the quick `npm test`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# Nest 11 was tried (with the peer range widened by hand): HAL, 404 and 400
# pass, but a handler that returns nothing answers 201 instead of 204, and a
# malformed JSON body's parser message reaches the client (Nest 11 does not
# keep body-parser errors as the HttpException cause). So the peer range is
# ^12, and for 11 this checks that npm refuses the install.
NEST_MAJORS=${NEST_MAJORS:-"12"}
UNSUPPORTED_MAJORS=${UNSUPPORTED_MAJORS:-"11"}

cd "$ROOT"
npx nest build hal-problem >/dev/null
TARBALL="$WORK/$(cd libs/hal-problem && npm pack --silent --pack-destination "$WORK")"
echo "packed $(basename "$TARBALL") ($(tar tzf "$TARBALL" | wc -l) files)"
if tar tzf "$TARBALL" | grep -qE '\.spec\.|/src/'; then
  echo "the tarball contains sources or specs" >&2
  exit 1
fi

for MAJOR in $NEST_MAJORS; do
  APP="$WORK/app-nest$MAJOR"
  mkdir -p "$APP"
  cp "$ROOT/test/consumer/main.ts" "$ROOT/test/consumer/tsconfig.json" "$APP/"
  echo '{ "name": "consumer", "private": true, "type": "commonjs" }' > "$APP/package.json"
  echo "== Nest $MAJOR: installing"
  (cd "$APP" && npm install --no-audit --no-fund --loglevel=error \
    "$TARBALL" \
    "@nestjs/common@^$MAJOR" "@nestjs/core@^$MAJOR" "@nestjs/platform-express@^$MAJOR" \
    "@nestjs/passport@^$MAJOR" "@nestjs/throttler@^6.4.0" passport \
    class-validator class-transformer reflect-metadata rxjs "@types/node@^20" >/dev/null)
  echo "== Nest $MAJOR: $(node -p "require('$APP/node_modules/@nestjs/core/package.json').version")"
  node "$ROOT/node_modules/typescript/bin/tsc" -p "$APP/tsconfig.json"
  (cd "$APP" && node dist/main.js)
done
for MAJOR in $UNSUPPORTED_MAJORS; do
  APP="$WORK/app-nest$MAJOR-refused"
  mkdir -p "$APP"
  echo '{ "name": "consumer", "private": true }' > "$APP/package.json"
  if (cd "$APP" && npm install --no-audit --no-fund --loglevel=error "$TARBALL" "@nestjs/common@^$MAJOR" "@nestjs/core@^$MAJOR" >"$APP/install.log" 2>&1); then
    echo "npm installed the library next to Nest $MAJOR, outside its declared peer range" >&2
    exit 1
  fi
  grep -q ERESOLVE "$APP/install.log" || { cat "$APP/install.log" >&2; exit 1; }
  echo "== Nest $MAJOR: refused by the peer range, as declared"
done
echo "consumer test passed: Nest $NEST_MAJORS supported, Nest $UNSUPPORTED_MAJORS refused"
