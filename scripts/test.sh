#!/usr/bin/env bash
# The project's test command (npm test): installs what is missing, builds the dev tools once, type-checks,
# lints, then runs jest against the real local stack (the jest global setup starts whatever is not running).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/jest ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/build-tools.sh
npx tsc -p tsconfig.json --noEmit
npx eslint .

mkdir -p .data
status=0
npx jest --runInBand --json --outputFile=.data/jest-results.json "$@" || status=$?
node scripts/jest-totals.js .data/jest-results.json || true
exit $status
