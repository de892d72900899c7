#!/usr/bin/env bash
# Debian's git is needed by the repository export (git bundle) and by the seed (git fast-import): installed when
# missing and running as root with apt, otherwise a clear error.
set -euo pipefail
command -v git >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's git (repository export and seed)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q git >/dev/null ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q git >/dev/null; }
else
  echo "git is missing: the repository export and the seed need it; install Debian's git package" >&2
  exit 1
fi
