#!/usr/bin/env bash
# The UI shipped in the package is what web/ builds, byte for byte, and the build is
# deterministic: build twice into temporary directories, compare the two, then compare with
# src/anh_reporter/web/. Also checks that web/openapi.json and web/src/api/schema.d.ts match
# what the API serves. Needs node (>= 20.19) and the venv; installs web/node_modules from the
# lock file when missing (npm ci; never downloads a browser).
set -euo pipefail
cd "$(dirname "$0")/.."
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
PYTHON="${PYTHON:-.venv/bin/python}"
if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# 1. The API document and the generated client are current.
"$PYTHON" tools/export_openapi.py --check
(cd web && npx openapi-typescript openapi.json -o "$tmp/schema.d.ts" >/dev/null 2>&1)
if ! cmp -s "$tmp/schema.d.ts" web/src/api/schema.d.ts; then
  echo "web/src/api/schema.d.ts is stale: run \`make web-api\` and commit it" >&2
  exit 1
fi

# 2. Type check, then two builds from the same source must be identical.
(cd web && npx vue-tsc --noEmit -p tsconfig.app.json)
for n in 1 2; do
  (cd web && npx vite build --outDir "$tmp/build$n" --emptyOutDir --logLevel error)
done
if ! diff -r "$tmp/build1" "$tmp/build2" >/dev/null; then
  diff -rq "$tmp/build1" "$tmp/build2" >&2 || true
  echo "the web build is not deterministic: two builds of the same source differ" >&2
  exit 1
fi

# 3. What is committed in the package is that build.
if ! diff -r "$tmp/build1" src/anh_reporter/web >/dev/null; then
  diff -rq "$tmp/build1" src/anh_reporter/web >&2 || true
  echo "src/anh_reporter/web/ differs from a build of web/: run \`make web\` and commit it" >&2
  exit 1
fi
echo "web build: deterministic and identical to the packaged UI; API client current"
