# Sourced (not run) by the project's shell entry points after scripts/build-tools.sh: puts the project's Node.js 24
# LTS runtime, installed in the tools folder, first on PATH, so node, npm, npx and every process they start run on it.
#   NODE_RUNTIME=system   keep the node already on PATH (Node 20.19 or newer still works; see docs/development.md)
if [ "${NODE_RUNTIME:-}" != "system" ]; then
  _node_env_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  case "${STACK_TOOLS_DIR:-.tools}" in
    /*) _node_env_bin="${STACK_TOOLS_DIR}/node/bin" ;;
    *) _node_env_bin="$_node_env_root/${STACK_TOOLS_DIR:-.tools}/node/bin" ;;
  esac
  if [ -x "$_node_env_bin/node" ]; then
    case ":$PATH:" in
      *":$_node_env_bin:"*) ;;
      *) export PATH="$_node_env_bin:$PATH" ;;
    esac
  else
    echo "node-env: $_node_env_bin/node is missing: run scripts/build-tools.sh (or set NODE_RUNTIME=system)" >&2
    return 1 2>/dev/null || exit 1
  fi
  unset _node_env_root _node_env_bin
fi
