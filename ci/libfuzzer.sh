#!/usr/bin/env bash
# ci/libfuzzer.sh SECONDS: build every native Go fuzz target (.clusterfuzzlite/targets.txt) as
# a libFuzzer binary the way OSS-Fuzz and ClusterFuzzLite build Go (go-118-fuzz-build, then
# clang -fsanitize=fuzzer), and run each for SECONDS with its seed corpus (testdata/fuzz/<Target>,
# converted to raw inputs) and the HTTP dictionary, up to the core count at a time. Exits non-zero
# when a target fails to build or a run finds a crash; a crash's reproducer is copied to
# ${TMPDIR:-/tmp}/forkproof-libfuzzer-crashes/ and its path printed.
#
# The binaries go to $OUT (default: a temporary directory removed at exit). go-118-fuzz-build
# rewrites sources while it builds (it turns the harness file into a non-test file importing its
# testing shim, and only sees non-test files), so everything happens in temporary copies of the
# work tree, one per package being built: the repository is never modified. In a copy, the target
# package's own _test.go files are renamed to non-test files (go-118-fuzz-build's documented
# recipe for harnesses that use test helpers) and the shim is added to go.mod. Builds run up to
# the core count at a time too, and reuse the Go build cache (a warm run builds in seconds).
set -euo pipefail
secs=${1:?usage: ci/libfuzzer.sh SECONDS}
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$PATH:/usr/local/go/bin:/usr/lib/llvm-14/bin"
# go-118-fuzz-build has no tagged releases; this is the pseudo-version @latest resolved to on
# the module proxy (2025-05-20), pinned so that a change upstream cannot break the build.
g118=github.com/AdamKorcz/go-118-fuzz-build
g118_version=v0.0.0-20250520111509-a70c2aa677fa
cores=$(nproc 2>/dev/null || echo 2)
start=$(date +%s)

work=$(mktemp -d "${TMPDIR:-/tmp}/forkproof-libfuzzer.XXXXXX")
trap 'rm -rf "$work"' EXIT
OUT=${OUT:-$work/out}
mkdir -p "$OUT"
crashes=${TMPDIR:-/tmp}/forkproof-libfuzzer-crashes

if ! command -v clang >/dev/null; then
	echo "libfuzzer: installing clang"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang >/dev/null
fi
tools=$(go env GOPATH)/forkproof-tools/go-118-fuzz-build@$g118_version
if [ ! -x "$tools/go-118-fuzz-build" ]; then
	echo "libfuzzer: installing $g118@$g118_version"
	GOBIN=$tools go install "$g118@$g118_version"
fi

# The temporary copy: tracked and untracked-but-not-ignored files, as the work tree has them.
# The shim joins its go.mod; go get fetches the shim's own dependencies, and each build
# fetches anything else it lacks (the module cache usually has it all after go test).
src=$work/src
mkdir -p "$src"
(cd "$root" && git ls-files -z --cached --others --exclude-standard | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -C "$src" -xf -
(cd "$src" && go get "$g118/testing@$g118_version" >/dev/null 2>&1)

# Seed corpora and the dictionary.
dict=$OUT/http.dict
cp "$root/ci/libfuzzer/http.dict" "$dict"
converter=$work/seeds
go build -o "$converter" "$root/ci/libfuzzer/seeds.go"

targets=()
pkgs=()
while read -r pkg fn; do
	case $pkg in '' | '#'*) continue ;; esac
	targets+=("$pkg $fn")
	case " ${pkgs[*]} " in *" $pkg "*) ;; *) pkgs+=("$pkg") ;; esac
done <"$root/.clusterfuzzlite/targets.txt"
echo "libfuzzer: set up in $(($(date +%s) - start)) s"

# Build. go-118-fuzz-build rewrites the target's package while it builds, so each package
# builds in a copy of the tree of its own: its targets one after another (they share all but
# the generated main package, so the second finds the rest in the build cache), packages side
# by side, up to the core count at a time. The first target builds alone: with a cold cache it
# compiles the instrumented standard library, on every core already; two builds at once would
# both compile it.
build() {
	local pkg=$1 fn=$2 tree=$3 t0
	t0=$(date +%s)
	# From the package's directory: the generated main package must be allowed to import it
	# (server/internal/h1 is internal).
	if (cd "$tree/${pkg#./}" && "$tools/go-118-fuzz-build" -o "$work/$fn.a" -func "$fn" .) >"$work/$fn.build.log" 2>&1 &&
		clang -fsanitize=fuzzer "$work/$fn.a" -o "$OUT/$fn" -lpthread >>"$work/$fn.build.log" 2>&1; then
		echo "built $pkg $fn ($(($(date +%s) - t0)) s)" >"$work/$fn.built"
	fi
	rm -f "$work/$fn.a" "$work/$fn.h"
}
# maketree copies the source for pkg's builds into $1, with the package's _test.go files made
# non-test files (go-118-fuzz-build's documented recipe for harnesses that use test helpers).
maketree() {
	local tree=$1 pkg=$2 f
	cp -a "$src" "$tree"
	for f in "$tree/${pkg#./}"/*_test.go; do
		# External test packages (package x_test) cannot join the package; they stay tests.
		if ! grep -qE '^package [A-Za-z0-9_]+_test$' "$f"; then
			mv "$f" "${f%_test.go}_libfuzzer.go"
		fi
	done
}
# buildPackage builds the targets of pkg but skip, in a tree of its own.
buildPackage() {
	local pkg=$1 skip=${2:-} tree=$work/src-${pkg//\//_} t p fn
	maketree "$tree" "$pkg"
	for t in "${targets[@]}"; do
		read -r p fn <<<"$t"
		if [ "$p" = "$pkg" ] && [ "$fn" != "$skip" ]; then
			build "$pkg" "$fn" "$tree"
		fi
	done
	rm -rf "$tree"
}
b0=$(date +%s)
# The first build: a target of the package with the most dependencies (test files included),
# so that the cache holds nearly everything the others need.
pkg0=${pkgs[0]} most=0
for pkg in "${pkgs[@]}"; do
	n=$(cd "$src" && go list -deps -test "$pkg" | wc -l)
	if [ "$n" -gt "$most" ]; then pkg0=$pkg most=$n; fi
done
for t in "${targets[@]}"; do
	read -r p fn0 <<<"$t"
	if [ "$p" = "$pkg0" ]; then break; fi
done
maketree "$work/src-first" "$pkg0"
build "$pkg0" "$fn0" "$work/src-first"
rm -rf "$work/src-first"
for pkg in "${pkgs[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$cores" ]; do wait -n || true; done
	if [ "$pkg" = "$pkg0" ]; then
		buildPackage "$pkg" "$fn0" &
	else
		buildPackage "$pkg" &
	fi
done
wait

built=()
failed=0
for t in "${targets[@]}"; do
	read -r pkg fn <<<"$t"
	if [ ! -f "$work/$fn.built" ]; then
		echo "libfuzzer: FAILED to build $pkg $fn:"
		sed 's/^/    /' "$work/$fn.build.log" | head -40
		failed=1
		continue
	fi
	echo "libfuzzer: $(cat "$work/$fn.built")"
	built+=("$fn")
	mkdir -p "$OUT/${fn}_corpus"
	shopt -s nullglob
	seeds=("$root/${pkg#./}/testdata/fuzz/$fn"/*)
	shopt -u nullglob
	if [ ${#seeds[@]} -gt 0 ]; then
		"$converter" "$OUT/${fn}_corpus" "${seeds[@]}" >/dev/null
	fi
done
echo "libfuzzer: ${#built[@]} built in $(($(date +%s) - b0)) s, $cores at a time"

# Run, up to the core count at a time.
run() {
	local fn=$1 rc=0
	(cd "$OUT" && exec "./$fn" -max_total_time="$secs" -timeout=30 -rss_limit_mb=2048 \
		-dict="$dict" -artifact_prefix="$OUT/$fn-" -print_final_stats=1 "${fn}_corpus") >"$OUT/$fn.log" 2>&1 || rc=$?
	echo "$rc" >"$OUT/$fn.rc"
}
for fn in "${built[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$cores" ]; do wait -n || true; done
	run "$fn" &
done
wait

for fn in "${built[@]}"; do
	rc=$(cat "$OUT/$fn.rc")
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$fn.log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$OUT/$fn.log")
	if [ "$rc" = 0 ]; then
		echo "libfuzzer: $fn ok: ${execs:-?} execs, ${rate:-?} execs/s"
		continue
	fi
	failed=1
	echo "libfuzzer: $fn FAILED (exit $rc):"
	grep -v '^#\|^INFO\|^stat::' "$OUT/$fn.log" | tail -30 | sed 's/^/    /'
	shopt -s nullglob
	for a in "$OUT/$fn"-crash-* "$OUT/$fn"-timeout-* "$OUT/$fn"-oom-* "$OUT/$fn"-leak-*; do
		mkdir -p "$crashes"
		cp "$a" "$crashes/"
		echo "libfuzzer: reproducer: $crashes/$(basename "$a") (replay: \$OUT/$fn FILE, with OUT=DIR set to keep the binaries)"
	done
	shopt -u nullglob
done
echo "libfuzzer: ${#built[@]}/${#targets[@]} targets built and run for ${secs}s each in $(($(date +%s) - start)) s"
exit "$failed"
