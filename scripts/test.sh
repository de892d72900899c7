#!/usr/bin/env bash
# The project's test command (npm test): builds the dev tools and installs Node.js 24 once, installs what is missing,
# type-checks, lints, runs the unit tier (*.unit.test.ts: no stack, jest.unit.config.js), then runs jest against the
# real local stack (the jest global setup starts whatever is not running). `npm test -- <paths>` runs only the stack
# tier, on those paths. Everything runs on the tools folder's Node 24 unless NODE_RUNTIME=system (scripts/node-env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build-tools.sh
source scripts/node-env.sh
echo "test: node $(node --version) ($(command -v node))"
if [ ! -x node_modules/.bin/jest ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# The Web UI test drives Debian's Chromium (playwright-core never downloads a browser).
if [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test: installing Debian's chromium for the Web UI test"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null ||
      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
  else
    echo "test: the Web UI test needs Chromium: install Debian's chromium package or set CHROMIUM_PATH" >&2
    exit 1
  fi
fi
bash scripts/require-git.sh
npx tsc -p tsconfig.json --noEmit
npm run lint --silent

mkdir -p .data
rm -f .data/jest-results-unit.json .data/jest-results.json .data/jest-results-chaos.json
status=0
if [ "$#" -gt 0 ]; then
  npx jest --runInBand --json --outputFile=.data/jest-results.json "$@" || status=$?
else
  # The unit tier first: seconds, no stack, its own configuration (the stack tier's leaves *.unit.test.ts out).
  npx jest --config jest.unit.config.js --json --outputFile=.data/jest-results-unit.json || status=$?
  # The fault-injection suite restarts servers under its clients: it runs in a jest process of its own, so a retry
  # timer left by another file's closed client cannot fire inside it (and its restarts cannot reach the others).
  npx jest --runInBand --json --outputFile=.data/jest-results.json --testPathIgnorePatterns /test/chaos/ || status=$?
  npx jest --runInBand --json --outputFile=.data/jest-results-chaos.json test/chaos || status=$?
fi
node scripts/jest-totals.js .data/jest-results-unit.json .data/jest-results.json .data/jest-results-chaos.json || true
exit $status
