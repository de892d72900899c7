#!/bin/sh
# Compose one-shot job (temporalio/admin-tools image, whose `temporal` CLI it uses): waits until the Temporal server
# answers SERVING, creates the namespace if it is missing and registers the project's custom search attributes
# (contracts/search-attributes.ts; test/stack/compose.test.ts keeps SEARCH_ATTRIBUTES equal to that list). The CLI
# skips an attribute that exists with the same type and refuses one that exists with another type, so a second run
# changes nothing and a conflicting type fails the job instead of being ignored.
set -eu
: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS}" "${SEARCH_ATTRIBUTES:?set SEARCH_ATTRIBUTES (Name=Type ...)}"
namespace="${TEMPORAL_NAMESPACE:-default}"
wait_seconds="${TEMPORAL_WAIT_SECONDS:-120}"

# The list as CLI flags (--name N --type T ...), checked before anything is changed.
set --
for pair in $SEARCH_ATTRIBUTES; do
  case "$pair" in
    ?*=?*) set -- "$@" --name "${pair%%=*}" --type "${pair#*=}" ;;
    *)
      echo "setup-namespace: '$pair' in SEARCH_ATTRIBUTES is not Name=Type" >&2
      exit 1
      ;;
  esac
done

waited=0
until health=$(temporal operator cluster health --address "$TEMPORAL_ADDRESS" 2>&1) && [ "$health" = SERVING ]; do
  if [ "$waited" -ge "$wait_seconds" ]; then
    echo "setup-namespace: the Temporal server at $TEMPORAL_ADDRESS is not SERVING after $wait_seconds s: $health" >&2
    exit 1
  fi
  sleep 2
  waited=$((waited + 2))
done

if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$namespace" >/dev/null 2>&1; then
  echo "setup-namespace: namespace $namespace exists"
else
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" --namespace "$namespace"
  echo "setup-namespace: created namespace $namespace"
fi

# A new namespace reaches the server's namespace cache within seconds; the attributes need it there.
waited=0
until temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$namespace" >/dev/null 2>&1; do
  if [ "$waited" -ge "$wait_seconds" ]; then
    echo "setup-namespace: namespace $namespace is not usable after $wait_seconds s" >&2
    exit 1
  fi
  sleep 1
  waited=$((waited + 1))
done
temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" --namespace "$namespace" "$@"
echo "setup-namespace: search attributes $SEARCH_ATTRIBUTES registered on $namespace"
