#!/usr/bin/env bash
# The command line as docker users expect it (issue 9, item 2): one value per repeatable flag and
# everything after the image is the command; unknown flags and commands named as such, with the
# closest match; help, help COMMAND and version; a top-level help of one line per command within
# 40 lines; every command's --help with a usage line and examples; '-' as stdin/stdout.
source "$(dirname "$0")/lib.sh"
layout="$WORK/layout"
bash "$SRC/tests/tools/busybox_index.sh" "$layout" latest >/dev/null
img="oci:$layout:latest"
q=(--progress quiet)

# 1. -e takes one value; the image and the command follow (this failed with "run needs an IMAGE").
out=$("$AA" run --rm -e A=1 -e B=2 --platform linux/arm64 "$img" env)
assert_contains "$out" "A=1" "run -e A=1 IMAGE env"
assert_contains "$out" "B=2" "run -e B=2 IMAGE env"
# Flags after the image belong to the command.
out=$("$AA" run --rm --platform linux/arm64 "$img" echo -e --rm -v x)
assert_eq "$out" "--rm -v x" "flags after the image are the command's"
# lint --build-arg A=1 DIR: DIR is not swallowed by --build-arg.
mkdir -p "$WORK/ctx"
printf 'ARG A\nFROM busybox\nRUN echo $A\n' >"$WORK/ctx/Dockerfile"
"$AA" lint --no-fail --build-arg A=1 --build-arg B=2 "$WORK/ctx" >/dev/null
pass "repeatable flags take one value each; the command follows the image"

# 2. Unknown flags before the image, with docker's alternatives; -i, -t and -it are accepted.
expect_fail "$AA" run -d "$img" true
assert_eq "$RC" 2 "run -d: exit code"
assert_contains "$ERR" "unknown flag -d for run: anyarch run stays in the foreground" "run -d"
assert_not_contains "$ERR" "invalid reference" "run -d"
expect_fail "$AA" run --publish 80:80 "$img" true
assert_contains "$ERR" "unknown flag --publish for run: ports are not published; --network host" "run --publish"
expect_fail "$AA" run --frobnicate "$img" true
assert_eq "$ERR" "anyarch: error: unknown flag --frobnicate for run
Run 'anyarch run --help' for its options." "run --frobnicate"
# -t: the program writes to a terminal of its own, whose line discipline ends lines with CR LF.
out=$("$AA" run --rm -it --platform linux/arm64 "$img" sh -c '[ -t 1 ] && echo tty-ok' </dev/null)
assert_eq "$out" $'tty-ok\r' "run -it"
expect_fail "$AA" images --frobnicate
assert_eq "$RC" 2 "images --frobnicate: exit code"
assert_contains "$ERR" "unknown flag --frobnicate" "images --frobnicate"
expect_fail "$AA" run -v relative:/x "$img" true
assert_contains "$ERR" "-v \"relative:/x\": the host path must be absolute" "run -v relative"
pass "unknown flags are reported as flags, with docker alternatives"

# 3. Unknown commands, with the closest match.
expect_fail "$AA" imgaes
assert_eq "$RC" 2 "anyarch imgaes: exit code"
assert_eq "$ERR" "anyarch: error: unknown command \"imgaes\"; did you mean \"images\"?
Run 'anyarch --help' for the commands." "anyarch imgaes"
expect_fail "$AA" manifest crate x y
assert_eq "$RC" 2 "manifest crate: exit code"
assert_contains "$ERR" "unknown command \"manifest crate\"; did you mean \"manifest create\"?" "manifest crate"
expect_fail "$AA" --root "$WORK/store" zzzzzz
assert_eq "$ERR" "anyarch: error: unknown command \"zzzzzz\"
Run 'anyarch --help' for the commands." "no match"
pass "unknown commands name the closest one"

# 4. help, help COMMAND, version, and a top-level help of one line per command.
top=$("$AA" --help)
lines=$(printf '%s\n' "$top" | wc -l)
[ "$lines" -le 40 ] || fail "anyarch --help has $lines lines (at most 40): $top"
assert_eq "$("$AA")" "$top" "anyarch with no command shows the help"
assert_eq "$("$AA" help)" "$top" "anyarch help"
for group in "Build and run:" "Images:" "Registries:" "Emulation and checks:"; do
  assert_contains "$top" "$group" "top-level help groups"
done
assert_contains "$top" "  images    List the local store's images" "one line per command"
assert_eq "$("$AA" help images)" "$("$AA" images --help)" "anyarch help images"
assert_eq "$("$AA" help manifest create)" "$("$AA" manifest create --help)" "anyarch help manifest create"
assert_eq "$("$AA" version)" "anyarch 0.1.0" "anyarch version"
assert_eq "$("$AA" --version)" "anyarch 0.1.0" "anyarch --version"
assert_eq "$("$AA" version --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')" \
  "0.1.0" "anyarch version --json"
pass "help, help COMMAND, version; top-level help in $lines lines"

# 5. Every command's help has a usage line with its positionals, and an example.
cmds=$(printf '%s\n' "$top" | sed -nE 's/^  ([a-z]+) .*/\1/p')
for c in $cmds manifest\ create manifest\ annotate manifest\ inspect manifest\ ls manifest\ push \
  manifest\ rm manifest\ merge binfmt\ status binfmt\ install binfmt\ uninstall binfmt\ test; do
  # shellcheck disable=SC2086
  h=$("$AA" $c --help)
  assert_contains "$h" "Usage: anyarch $c" "$c --help usage line"
  [[ "$h" == *"Example"* ]] || fail "$c --help has no example"
  [[ "$h" == *"anyarch $c "* ]] || fail "$c --help has no example of itself"
done
h=$("$AA" run --help)
assert_contains "$h" "Usage: anyarch run [OPTIONS] IMAGE [COMMAND...]" "run usage names its positionals"
h=$("$AA" copy --help)
assert_contains "$h" "SOURCE DESTINATION" "copy usage names its positionals"
pass "every command's help: usage line and examples"

# 6. '-' is standard output for export and standard input for import.
"$AA" "${q[@]}" copy --all "$img" local:busybox:1 >/dev/null
"$AA" "${q[@]}" export busybox:1 -o - >"$WORK/bb.tar" 2>"$WORK/export.err"
assert_contains "$(cat "$WORK/export.err")" "to standard output" "export -o - reports on stderr"
tar -tf "$WORK/bb.tar" | grep -q '^index.json$' || fail "export -o - wrote no oci-archive"
"$AA" "${q[@]}" rmi busybox:1 >/dev/null
"$AA" "${q[@]}" import -t busybox:2 - <"$WORK/bb.tar" >/dev/null
n=$("$AA" "${q[@]}" inspect --json local:busybox:2 | jq '.manifests | length')
assert_eq "$n" 8 "export -o - | import -: platforms of the imported index"
expect_fail script -qec "$AA export busybox:2 -o -" /dev/null
assert_contains "$OUT" "refusing to write a tar archive to a terminal" "export -o - to a terminal"
pass "'-' is stdin for import and stdout for export"

# 7. Configuration that does not guess (item 5): a --config that does not exist and a --root that
# is not a store are errors, before anything runs.
expect_fail "$AA" --config "$WORK/no-such.toml" images
assert_eq "$RC" 2 "--config missing: exit code"
assert_contains "$ERR" "no-such.toml" "--config missing"
expect_fail "$AA" --root /proc/nope images
assert_eq "$RC" 2 "--root /proc/nope: exit code"
assert_contains "$ERR" "--root /proc/nope: cannot create the store" "--root /proc/nope"
mkdir -p "$WORK/notastore" && echo x >"$WORK/notastore/file"
expect_fail "$AA" --root "$WORK/notastore" images
assert_contains "$ERR" "is not an anyarch store" "--root at a directory with other things"
"$AA" --root "$WORK/fresh/store" images >/dev/null
"$AA" --root "$WORK/store" images >/dev/null
pass "--config and --root are checked"

# 8. rmi takes the short ID images shows and repo@sha256:... (item 4).
"$AA" "${q[@]}" copy --platform linux/arm64 "$img" local:example.com/one:1 >/dev/null
"$AA" "${q[@]}" copy --platform linux/s390x "$img" local:example.com/two:1 >/dev/null
id=$("$AA" images | awk '$1 == "example.com/one:1" {print $2}')
[ ${#id} -eq 12 ] || fail "images shows no 12-digit ID for example.com/one:1: $("$AA" images)"
"$AA" "${q[@]}" rmi "$id" >/dev/null
expect_fail "$AA" "${q[@]}" inspect local:example.com/one:1
d=$("$AA" "${q[@]}" images --json | jq -r '.[] | select(.name == "example.com/two:1") | .digest')
expect_fail "$AA" "${q[@]}" rmi "example.com/one@$d"
assert_eq "$RC" 3 "rmi of a digest the repository does not hold"
"$AA" "${q[@]}" rmi "example.com/two@$d" >/dev/null
expect_fail "$AA" "${q[@]}" inspect local:example.com/two:1
pass "rmi by short ID and by repo@digest"

# 9. -v HOST:CONTAINER[:ro] bind-mounts a host directory.
mkdir -p "$WORK/vol" && echo from-host >"$WORK/vol/f"
out=$("$AA" run --rm -v "$WORK/vol:/data" --platform linux/arm64 "$img" sh -c 'cat /data/f; echo new >/data/g')
assert_eq "$out" "from-host" "-v: the host file inside"
assert_eq "$(cat "$WORK/vol/g")" "new" "-v: written through to the host"
expect_fail "$AA" run --rm -v "$WORK/vol:/data:ro" --platform linux/arm64 "$img" sh -c 'echo x >/data/h'
[ ! -e "$WORK/vol/h" ] || fail "-v :ro let the container write"
pass "-v HOST:CONTAINER[:ro]"
