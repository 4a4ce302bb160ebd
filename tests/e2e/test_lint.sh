#!/usr/bin/env bash
# anyarch lint and lint --plan, driven through the binary.
source "$(dirname "$0")/lib.sh"
dir="$SRC/tests/e2e/lint"

# Every trap is reported with its rule and line, and the exit code is 1.
expect_fail "$AA" lint -f "$dir/traps.Dockerfile" --platform linux/amd64,linux/arm64 "$dir"
assert_eq "$RC" 1 "lint exit code with findings"
for want in "3:6: warning [arch-specific-base]" "4:6: warning [pinned-platform]" \
  "3:1: warning [unused-stage]" "6:1: warning [unused-stage]" "8:1: warning [maintainer]" "9:1: warning [undeclared-arg]" "9:1: warning [hardcoded-arch]" \
  "10:1: warning [hardcoded-arch]" "12:1: warning [undeclared-arg]" "13:1: warning [apt-get-yes]" \
  "14:5: warning [json-form]" "6:6: warning [undefined-arg-in-from]" "15:1: warning [apt-get-yes]"; do
  assert_contains "$OUT" "traps.Dockerfile:$want" "lint output"
done
pass "traps reported"

# JSON output carries the same findings.
json=$("$AA" lint --json --no-fail -f "$dir/traps.Dockerfile" "$dir")
n=$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$json")
assert_eq "$n" 13 "number of JSON findings"
rules=$(python3 -c 'import json,sys; print(",".join(sorted({w["rule"] for w in json.load(sys.stdin)})))' <<<"$json")
assert_eq "$rules" "apt-get-yes,arch-specific-base,hardcoded-arch,json-form,maintainer,pinned-platform,undeclared-arg,undefined-arg-in-from,unused-stage" "rules"
pass "json output"

# A single-platform build does not get the multi-platform warnings.
out=$("$AA" lint --no-fail --platform linux/amd64 -f "$dir/traps.Dockerfile" "$dir")
assert_not_contains "$out" "hardcoded-arch" "single platform"
assert_not_contains "$out" "pinned-platform" "single platform"

# The clean multi-platform file is silent and exits 0.
out=$("$AA" lint --platform linux/amd64,linux/arm64,linux/arm/v7 -f "$dir/clean.Dockerfile" "$dir" 2>&1)
assert_contains "$out" "no problems found for linux/amd64, linux/arm64, linux/arm/v7" "clean file"
pass "clean file is silent"

# Stages inherit their base stage's ARGs and ENV, per-architecture stages are used by their
# platform, quoted heredocs are not expanded and cross-compiler package names are no trap.
out=$("$AA" lint --platform linux/amd64,linux/arm64 -f "$dir/stages.Dockerfile" "$dir" 2>&1)
assert_contains "$out" "no problems found for linux/amd64, linux/arm64" "stages file"
plan=$("$AA" lint --plan --steps --platform linux/amd64,linux/arm64 --build-platform linux/amd64 \
  -f "$dir/stages.Dockerfile" "$dir")
assert_contains "$plan" '5 ENV ["GOARCH=arm64"]' "inherited ARG expands in ENV"
assert_contains "$plan" 'stage 3: from tools-arm64, runs on linux/arm64 (target), needs 2 via FROM' \
  "per-architecture base"
assert_contains "$plan" '11 COPY ["/etc/motd"] <<EOF "built for $TARGETARCH\n"' "quoted heredoc"
json=$("$AA" lint --plan --json --platform linux/arm64 -f "$dir/stages.Dockerfile" "$dir")
steps=$(python3 -c 'import json,sys; p=json.load(sys.stdin)[0]; print(p["stages"][0]["steps"][1]["words"][0])' <<<"$json")
assert_eq "$steps" "GOARCH=arm64" "steps in the JSON plan"
pass "stages, inheritance and steps"

# Plans printed by the binary match the checked-in expectations for a sample of the corpus.
for name in go-cross-buildplatform go-xx-cgo rust-cargo-chef java-gradle-jlink heredoc-heavy \
  heredoc-forms mount-defaults pattern-modifiers; do
  got=$("$AA" lint --plan --steps --platform linux/amd64,linux/arm64 --build-platform linux/amd64 \
    -f "$SRC/tests/dockerfiles/$name/Dockerfile" "$SRC/tests/dockerfiles/$name")
  assert_eq "$got" "$(cat "$SRC/tests/dockerfiles/$name/plan.txt")" "plan of $name"
done
pass "plans match"

# A per-architecture base image that cannot run on the target is an error, also with --no-fail;
# for a platform it runs on it is a warning.
mkdir -p "$WORK/wrongbase"
printf 'FROM arm64v8/alpine:3.19 AS tools\nRUN true\n' >"$WORK/wrongbase/Dockerfile"
expect_fail "$AA" lint --no-fail --platform linux/amd64 "$WORK/wrongbase"
assert_contains "$OUT" 'Dockerfile:1:6: error [arch-specific-base] stage "tools": base image "arm64v8/alpine:3.19" holds linux/arm64 only and cannot run on linux/amd64' "wrong base is an error"
out=$("$AA" lint --no-fail --platform linux/arm64 "$WORK/wrongbase")
assert_contains "$out" "warning [arch-specific-base]" "right base is a warning"
plan=$("$AA" lint --plan --platform linux/amd64 "$WORK/wrongbase")
assert_contains "$plan" 'stage 0 "tools": from arm64v8/alpine:3.19, runs on linux/amd64 (target), WRONG PLATFORM' "plan names the stage"
pass "base image for the wrong platform"

# "# check=" skips rules by anyarch or BuildKit name and makes findings errors.
mkdir -p "$WORK/check"
printf '# check=skip=MaintainerDeprecated;error=true\nFROM alpine\nMAINTAINER me\nRUN apt-get install curl\n' \
  >"$WORK/check/Dockerfile"
expect_fail "$AA" lint --no-fail --platform linux/amd64 "$WORK/check"
assert_contains "$OUT" "Dockerfile:4:1: error [apt-get-yes]" "check=error=true"
assert_not_contains "$OUT" "maintainer" "check=skip"
printf '# check=colour=blue\nFROM alpine\n' >"$WORK/check/Dockerfile"
expect_fail "$AA" lint --platform linux/amd64 "$WORK/check"
assert_contains "$ERR" 'unknown setting "colour"' "bad check directive"
pass "check directive"

# A syntax error names the file, line and column, shows a caret, and exits 1.
printf 'FROM alpine\nCOPY --chmdo=644 a b\n' >"$WORK/bad.Dockerfile"
expect_fail "$AA" lint -f "$WORK/bad.Dockerfile" "$WORK"
assert_contains "$ERR" "bad.Dockerfile:2:6: unknown flag --chmdo for COPY" "syntax error"
assert_contains "$ERR" "^" "caret"
assert_eq "$RC" 6 "exit code of a syntax error (invalid input, the README's table)"

# Words on continuation lines are reported where they are, also after a byte order mark.
printf '\xEF\xBB\xBFFROM alpine\nUSER a \\\n  b\n' >"$WORK/cont.Dockerfile"
expect_fail "$AA" lint -f "$WORK/cont.Dockerfile" "$WORK"
assert_contains "$ERR" "cont.Dockerfile:3:3: USER takes exactly one argument" "continuation line"

# An expansion error points at the "$" at fault, also inside a flag.
printf 'FROM alpine\nCOPY --chown=${U:?no-user} a b\n' >"$WORK/expand.Dockerfile"
expect_fail "$AA" lint -f "$WORK/expand.Dockerfile" "$WORK"
assert_contains "$ERR" "expand.Dockerfile:2:14: U: no-user" "expansion error position"

# A FROM that expands to an invalid reference fails where the image is written.
printf 'FROM alpine:$NOPE\n' >"$WORK/from.Dockerfile"
expect_fail "$AA" lint -f "$WORK/from.Dockerfile" "$WORK"
assert_contains "$ERR" 'from.Dockerfile:1:6: FROM "alpine:$NOPE" expands to "alpine:"' "invalid FROM"
assert_contains "$ERR" '$NOPE is not declared' "invalid FROM names the variable"

# A missing file is a clear error.
expect_fail "$AA" lint -f "$WORK/nope/Dockerfile"
assert_contains "$ERR" "nope/Dockerfile" "missing file is named"

# --target that does not exist lists the stages.
expect_fail "$AA" lint --plan --target nosuch -f "$SRC/tests/dockerfiles/go-test-lint-stages/Dockerfile"
assert_contains "$ERR" "base, test, lint, build, release" "target error lists stages"
pass "errors"
