#!/usr/bin/env bash
# Builds the multi-platform busybox base image (eight platforms, one image index tagged "latest")
# from Debian's busybox-static binaries into the OCI layout cache/base-images/busybox.
# Rebuilt only when its inputs (the generator and the eight binaries) change; validated with
# oci-image-tool and skopeo after every build.
set -euo pipefail
src=${ANYARCH_SOURCE_DIR:?}
cache=${ANYARCH_CACHE:-$src/cache}
bash "$src/scripts/fetch-busybox.sh"
bash "$src/tests/tools/build_busybox_layout.sh" "$cache/base-images/busybox"
