#!/usr/bin/env bash
# Debian's busybox-static for the eight test architectures (cache/busybox/<debarch>/busybox).
set -euo pipefail
bash "$ANYARCH_SOURCE_DIR/scripts/fetch-busybox.sh"
