#!/usr/bin/env bash
# The main job in one command, on a fresh clone: install, build the dev tools once, bring the local stack up,
# migrate, seed a small instance, start a worker, run the workflows and print what happened.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/tsx ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/build-tools.sh
bash scripts/require-git.sh
exec npx tsx scripts/demo.ts "$@"
