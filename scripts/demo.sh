#!/usr/bin/env bash
# The main job in one command, on a fresh clone: install, build the dev tools once, bring the local stack up,
# migrate, seed a small instance, start a worker, run the workflows and print what happened.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/tsx ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/build-tools.sh
# Node 24 from the tools folder unless NODE_RUNTIME=system (scripts/node-env.sh).
source scripts/node-env.sh
bash scripts/require-git.sh

# The demo stops its worker and API when it ends, so it must leave no workflow Running that only a worker could
# finish: its export's workflow completes with the export, and the demo waits for the export's credential purge
# (OfflineExportCredentialsPurgeWorkflow, 5 s after the export with the demo's EXPORT_CREDENTIALS_PURGE_DELAY_MS)
# before it stops them. This checks that promise after every run, for the workflows the demo started.
started_at="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
npx tsx scripts/demo.ts "$@"
# The environment wins over dev.env, as in loadEnvFile.
address="${TEMPORAL_ADDRESS:-$(sed -n 's/^TEMPORAL_ADDRESS=//p' dev.env)}"
namespace="${TEMPORAL_NAMESPACE:-$(sed -n 's/^TEMPORAL_NAMESPACE=//p' dev.env)}"
if ! running="$("${STACK_TOOLS_DIR:-.tools}/bin/temporal" workflow list --address "$address" --namespace "$namespace" \
  --query "ExecutionStatus = \"Running\" AND StartTime >= \"$started_at\"" --output json --limit 20)"; then
  echo "demo: could not list the demo's workflows to check that none is left Running" >&2
  exit 1
fi
if [ -n "$(printf '%s' "$running" | tr -d '[:space:]' | sed 's/^\[\]$//')" ]; then
  echo "demo: workflows the demo started are still Running with no worker (start one with npm run worker):" >&2
  printf '%s\n' "$running" | grep -o '"workflowId": *"[^"]*"' >&2 || true
  exit 1
fi
echo "Nothing the demo started is left Running."
