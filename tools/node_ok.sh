#!/usr/bin/env bash
# Exit 0 when node >= 20.19 and npm are on PATH (what web/ needs), else say what is missing on
# stderr and exit 1. `make test` runs the UI checks only when this passes (on CI it must).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "node and npm not found (web/ needs node >= 20.19)" >&2
  exit 1
fi
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "node $(node --version) is too old (web/ needs node >= 20.19)" >&2
  exit 1
fi
