#!/usr/bin/env bash
# The scaffolding test: a fresh app from `nest new` (Nest 12: ESM, strict,
# vitest, oxlint), the packed library installed in it, then the schematics
# through the real Nest CLI: `nest add`, `nest g -c nestjs-hal-problem
# hal-resource`, the nest-cli.json collection and a monorepo project. The
# generated code must compile, lint clean, pass its own specs, and the app
# must answer the contract over HTTP. Run by .ci/run, not by `npm test`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d)
APP_PID=
cleanup() {
  if [ -n "$APP_PID" ]; then kill "$APP_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
[ -z "${KEEP_WORK:-}" ] || trap - EXIT
step() { printf '== %s\n' "$*"; }
fail() {
  echo "scaffolding test failed: $*" >&2
  exit 1
}
expect_files() {
  for file in "$@"; do [ -f "$file" ] || fail "$file was not generated"; done
}

cd "$ROOT"
npx nest build hal-problem >/dev/null
TARBALL="$WORK/$(cd libs/hal-problem && npm pack --silent --pack-destination "$WORK")"

step "nest new (npm, strict)"
(cd "$WORK" && "$ROOT/node_modules/.bin/nest" new demo --skip-git --package-manager npm --strict >"$WORK/new.log" 2>&1) ||
  { cat "$WORK/new.log" >&2; fail "nest new"; }
APP="$WORK/demo"
cd "$APP"
npm install --no-audit --no-fund --loglevel=error "$TARBALL" >/dev/null

step "nest add nestjs-hal-problem (twice: the second run must change nothing)"
ADD_OPTIONS=(--skip-install --auth --issuer https://issuer.example.test/
  --audience demo-api --problem-type-base-uri https://api.example.test/problems/)
npx nest add nestjs-hal-problem "${ADD_OPTIONS[@]}" | tee "$WORK/add.log"
grep -q 'HalProblemModule.forRoot({' src/app.module.ts || fail "nest add did not edit src/app.module.ts"
cp src/app.module.ts package.json "$WORK/"
npx nest add nestjs-hal-problem "${ADD_OPTIONS[@]}" | tee "$WORK/add-again.log"
grep -q 'left unchanged' "$WORK/add-again.log" || fail "the second nest add did not say it changed nothing"
cmp -s src/app.module.ts "$WORK/app.module.ts" || fail "the second nest add changed src/app.module.ts"
cmp -s package.json "$WORK/package.json" || fail "the second nest add changed package.json"
npm install --no-audit --no-fund --loglevel=error >/dev/null

step "nest g -c nestjs-hal-problem hal-resource orders"
npx nest g -c nestjs-hal-problem hal-resource orders
expect_files src/orders/{orders.module,orders.controller,orders.service,order.resource,orders.problems}.ts \
  src/orders/{orders.controller,orders.service}.spec.ts \
  src/orders/dto/{create-order.dto,update-order.dto,list-orders.query}.ts src/orders/entities/order.entity.ts

step "hal-resource --flat --no-spec"
npx nest g -c nestjs-hal-problem hal-resource purchase-orders --flat --no-spec
expect_files src/purchase-orders.controller.ts src/purchase-order.resource.ts
[ ! -e src/purchase-orders.controller.spec.ts ] || fail "--no-spec wrote a spec"

step "nest-cli.json collection: hal-resource (now with @nestjs/swagger: documented) and Nest's own schematics"
npm install --no-audit --no-fund --loglevel=error "@nestjs/swagger@^12" >/dev/null
node -e "const f='nest-cli.json',c=JSON.parse(require('fs').readFileSync(f));c.collection='nestjs-hal-problem';require('fs').writeFileSync(f,JSON.stringify(c,null,2))"
npx nest g hal-resource invoices
npx nest g service greetings --no-spec
expect_files src/invoices/invoices.controller.ts src/greetings/greetings.service.ts
grep -q '@ApiHalResponse(InvoiceResource, { page: true })' src/invoices/invoices.controller.ts ||
  fail "the invoices controller is not documented for OpenAPI although the app depends on @nestjs/swagger"
grep -q '@ApiProperty' src/orders/order.resource.ts && fail "orders was generated before @nestjs/swagger, yet documents with it"

step "strict tsc, the project's lint, the generated specs"
npx tsc --noEmit -p tsconfig.json
npm run lint
npm test

step "the app over HTTP (auth on, as nest add set it up)"
# ESM evaluates the resource first when something imports it before the
# controller: the generated code must not touch a class before it exists.
sed -i "1i import './orders/order.resource.js';" src/app.module.ts
npm run build >/dev/null
PORT=$(node -e "const s=require('net').createServer().listen(0,()=>{console.log(s.address().port);s.close()})")
export JWT_SECRET=scaffolding-test-secret
PORT=$PORT node dist/main >"$WORK/app.log" 2>&1 &
APP_PID=$!
for attempt in $(seq 1 100); do
  curl -s "http://127.0.0.1:$PORT/" >/dev/null 2>&1 && break
  kill -0 "$APP_PID" 2>/dev/null || { cat "$WORK/app.log" >&2; fail "the app exited at startup"; }
  [ "$attempt" -lt 100 ] || { cat "$WORK/app.log" >&2; fail "the app did not answer within 10 s"; }
  sleep 0.1
done
token() {
  node -e "console.log(require('jsonwebtoken').sign({ sub: 'tester', scope: process.argv[1] }, process.env.JWT_SECRET, { issuer: 'https://issuer.example.test/', audience: 'demo-api', expiresIn: 60 }))" "$1"
}
WRITER=$(token 'orders:write')
READER=$(token 'orders:read')
check() { # expected-status expected-content-type curl-args...
  local status=$1 type=$2
  shift 2
  local out
  out=$(curl -s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code} %{content_type}' "$@")
  [[ "$out" == "$status $type"* ]] || {
    cat "$WORK/headers" "$WORK/body" >&2
    fail "curl $* answered $out, expected $status $type"
  }
}
check 401 application/problem+json "http://127.0.0.1:$PORT/orders"
grep -qi '^www-authenticate: Bearer' "$WORK/headers" || fail "401 without a Bearer challenge"
check 201 application/hal+json -X POST -H "authorization: Bearer $WRITER" \
  -H 'content-type: application/json' -d '{"name":"first"}' "http://127.0.0.1:$PORT/orders"
grep -qi '^location: ' "$WORK/headers" || fail "201 without Location"
check 403 application/problem+json -X POST -H "authorization: Bearer $READER" \
  -H 'content-type: application/json' -d '{"name":"second"}' "http://127.0.0.1:$PORT/orders"
grep -q 'insufficient_scope' "$WORK/headers" || fail "403 without insufficient_scope"
check 200 application/hal+json -H "authorization: Bearer $READER" "http://127.0.0.1:$PORT/orders"
node -e "const b=JSON.parse(require('fs').readFileSync(process.argv[1]));if(b._embedded.orders.length!==1||b._embedded.orders[0]._links.edit)process.exit(1)" "$WORK/body" ||
  fail "the page should embed one order, without the edit link for a read-only token"
check 200 application/hal+json -H "authorization: Bearer $READER" "http://127.0.0.1:$PORT/orders?page=1&size=1"
check 400 application/problem+json -H "authorization: Bearer $READER" "http://127.0.0.1:$PORT/orders?page=0x2"
check 400 application/problem+json -X POST -H "authorization: Bearer $WRITER" \
  -H 'content-type: application/json' -d '{"name":""}' "http://127.0.0.1:$PORT/orders"
grep -q '"errors":\[' "$WORK/body" || fail "the 400 problem does not list its errors: $(cat "$WORK/body")"
check 404 application/problem+json -H "authorization: Bearer $READER" \
  "http://127.0.0.1:$PORT/orders/$(node -p 'crypto.randomUUID()')"
grep -q '"type":"https://api.example.test/problems/order-not-found"' "$WORK/body" ||
  fail "the problem type base URI from nest add is not used: $(cat "$WORK/body")"
kill "$APP_PID"
APP_PID=

step "monorepo: nest g app admin, then hal-resource --project admin"
npx nest g app admin >/dev/null
node -e "const f='nest-cli.json',c=JSON.parse(require('fs').readFileSync(f));c.collection='@nestjs/schematics';require('fs').writeFileSync(f,JSON.stringify(c,null,2))"
npx nest add nestjs-hal-problem --skip-install --project admin
npx nest g -c nestjs-hal-problem hal-resource widgets --project admin
expect_files apps/admin/src/widgets/widgets.controller.ts
grep -q 'WidgetsModule' apps/admin/src/admin.module.ts || fail "WidgetsModule is not imported by the admin app's module"
grep -q "relations: \['widgets'\]" apps/admin/src/admin.module.ts || fail "the widgets relation is not registered"
# The root tsconfig covers every app, specs included (the apps' own exclude specs).
npx tsc --noEmit -p tsconfig.json
npx vitest run apps/admin

echo "scaffolding test passed"
