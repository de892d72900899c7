#!/usr/bin/env bash
# Builds the local stack's servers from Go modules into the ignored tools folder, once, and installs the project's
# Node.js runtime (Node 24 LTS) there. Re-running skips every tool that is already there at the pinned version.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS_DIR="${STACK_TOOLS_DIR:-.tools}"
BIN_DIR="$(mkdir -p "$TOOLS_DIR/bin" && cd "$TOOLS_DIR/bin" && pwd)"
# One build at a time: a second run (another terminal, the jest setup) waits here, then finds the binaries built.
exec 9>"$BIN_DIR/.build.lock"
flock 9

# Temporal CLI v1.5.1 is the newest tag whose go.mod has no replace directive, so `go install` works
# (v1.6.0+ replace ./cliext). It embeds the Web UI.
TEMPORAL_MODULE="github.com/temporalio/cli/cmd/temporal"
TEMPORAL_VERSION="v1.5.1"
# MinIO publishes no semver tags; this is the pseudo-version of its final master commit (2026-02-12).
MINIO_MODULE="github.com/minio/minio"
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"

# Node.js 24 LTS, the runtime the project runs and is tested on (scripts/node-env.sh puts it first on PATH). The npm
# registry's node-linux-<arch> packages carry the official release binary; npm checks the tarball against the
# registry's sha512 integrity. Node 20, which these machines ship, reached end of life in April 2026.
NODE_VERSION="24.22.3"
install_node() {
  local dir="$TOOLS_DIR/node" stamp arch package
  stamp="$dir/.version"
  if [ -x "$dir/bin/node" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$NODE_VERSION" ]; then
    echo "build-tools: node $NODE_VERSION already installed"
    return
  fi
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *)
      echo "build-tools: no Node.js $NODE_VERSION package for $(uname -m); set NODE_RUNTIME=system to use the installed node" >&2
      exit 1
      ;;
  esac
  package="node-linux-$arch@$NODE_VERSION"
  echo "build-tools: installing node $NODE_VERSION ($package from the npm registry)"
  NODE_PACK_TMP=$(mktemp -d)
  # Any exit (a failed download included) removes the temporary folder.
  trap 'rm -rf "$NODE_PACK_TMP"' EXIT
  (cd "$NODE_PACK_TMP" && npm pack "$package" --silent --no-fund --no-audit > /dev/null)
  rm -rf "$dir" && mkdir -p "$dir"
  tar -xzf "$NODE_PACK_TMP"/node-linux-*.tgz -C "$dir" --strip-components=1 package/bin/node package/include package/LICENSE
  rm -rf "$NODE_PACK_TMP"
  trap - EXIT
  "$dir/bin/node" -e 'process.exit(process.versions.node === process.argv[1] ? 0 : 1)' "$NODE_VERSION" || {
    echo "build-tools: $package did not install a working node $NODE_VERSION" >&2
    exit 1
  }
  echo "$NODE_VERSION" > "$stamp"
}
[ "${NODE_RUNTIME:-}" = "system" ] || install_node

if ! command -v go >/dev/null 2>&1; then
  for candidate in /usr/local/go/bin /usr/lib/go/bin; do
    [ -x "$candidate/go" ] && PATH="$candidate:$PATH"
  done
fi
if ! command -v go >/dev/null 2>&1; then
  echo "build-tools: Go is not installed. Install Go 1.25 or newer (https://go.dev/dl/) and run this again;" >&2
  echo "build-tools: it is needed once, to build the Temporal CLI and MinIO into $TOOLS_DIR/bin." >&2
  exit 1
fi
go_minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
if [ "${go_minor:-0}" -lt 25 ]; then
  echo "build-tools: Go $(go env GOVERSION) is too old; the Temporal CLI needs Go 1.25 or newer." >&2
  exit 1
fi

build() { # name module version ldflags
  local name=$1 module=$2 version=$3 ldflags=$4 stamp="$BIN_DIR/.$1.version"
  if [ -x "$BIN_DIR/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$module@$version" ]; then
    echo "build-tools: $name $version already built"
    return
  fi
  echo "build-tools: building $name $version (first time only; several minutes on two cores)"
  local started=$SECONDS
  CGO_ENABLED=0 GOBIN="$BIN_DIR" go install -trimpath -ldflags "$ldflags" "$module@$version"
  echo "$module@$version" > "$stamp"
  echo "build-tools: built $name in $((SECONDS - started)) s"
}

build temporal "$TEMPORAL_MODULE" "$TEMPORAL_VERSION" \
  "-s -w -X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_VERSION#v}"
build minio "$MINIO_MODULE" "$MINIO_VERSION" "-s -w"

build_local() { # name: this repository's own Go program in scripts/<name>, rebuilt when its source changes
  local name=$1 src="scripts/$1" stamp="$BIN_DIR/.$1.version" hash
  hash=$(cat "$src/main.go" "$src/go.mod" "$src/go.sum" | sha256sum | cut -c1-16)
  if [ -x "$BIN_DIR/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
    echo "build-tools: $name already built"
    return
  fi
  echo "build-tools: building $name"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$BIN_DIR/$name" .)
  echo "$hash" > "$stamp"
}

# compose-check: this repository's own validator for docker-compose.yml on the Compose Specification's reference
# loader (compose-go), so the compose file is checked without a Docker engine.
build_local compose-check
# minio-user: makes a MinIO user holding one policy, through MinIO's admin API (madmin-go at the version the MinIO
# server above pins), for the tests that run an export with only GitLab's documented bucket permissions.
build_local minio-user
