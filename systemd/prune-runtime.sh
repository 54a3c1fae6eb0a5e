#!/bin/sh
# Removes from an installed facegate (after npm prune --omit=dev) what a door never reads: the JavaScript
# source maps inside node_modules. For linux-arm64 they are 201 MB of 370 MB (nearly all in @tensorflow's
# bundles); Node reads them only with --enable-source-maps, for stack traces into those minified bundles.
# Usage: prune-runtime.sh INSTALL_DIR     (install.sh runs it on /opt/facegate; bench/footprint.ts measures it)
set -eu
root=${1:?usage: prune-runtime.sh INSTALL_DIR}
[ -d "$root/node_modules" ] || { echo "prune-runtime.sh: $root/node_modules not found" >&2; exit 1; }
find "$root/node_modules" -type f -name '*.map' -delete
