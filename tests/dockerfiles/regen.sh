#!/usr/bin/env bash
# Rewrites tests/dockerfiles/*/plan.txt from the current build: the plan per platform and every
# instruction with its expanded arguments (lint --plan --steps), so expansion changes show up.
# Review `git diff` by hand before committing: the expectations are only worth something if a
# person checked them.
# Usage: tests/dockerfiles/regen.sh [path/to/anyarch]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../../build/src/anyarch}
for d in "$here"/*/; do
  [ -f "$d/Dockerfile" ] || continue
  "$bin" lint -f "$d/Dockerfile" --plan --steps --platform linux/amd64,linux/arm64 \
    --build-platform linux/amd64 "$d" >"$d/plan.txt"
done
