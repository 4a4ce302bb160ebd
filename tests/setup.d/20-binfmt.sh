#!/usr/bin/env bash
# qemu-user emulation for the e2e tests: mounts binfmt_misc if needed and registers every
# architecture with anyarch itself. An entry left by another tool that differs is replaced
# (--force): the tests need anyarch's flags (F, C) to run foreign images in chroots.
set -euo pipefail
"$ANYARCH_BIN" binfmt install --force all >/dev/null
"$ANYARCH_BIN" binfmt test arm64 arm 386 ppc64le s390x riscv64 mips64le
