#!/usr/bin/env bash
# Runs every native fuzz target of the module for a given time each (default 10s; a long
# campaign passes a bigger number: `ci/fuzz.sh 5m`, or a count: `ci/fuzz.sh 100000x`). New corpus entries found along the way
# are kept in $FUZZ_CORPUS (default out/fuzz-corpus, restored into the fuzz cache before each
# run), so campaigns build on each other. Exits non-zero on the first finding, naming the
# failing input that go test wrote under the package's testdata/fuzz/<Target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
fuzztime="${1:-10s}"
corpus="${FUZZ_CORPUS:-out/fuzz-corpus}"
cache="$(go env GOCACHE)/fuzz"
module="$(go list -m)"
mkdir -p "$corpus"

status=0
total=0
for pkg in $(go list ./...); do
	targets=$(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true)
	for target in $targets; do
		rel="${pkg#"$module"}"; rel="${rel#/}"
		keep="$corpus/${rel:-.}/$target"
		live="$cache/$pkg/$target"
		mkdir -p "$keep" "$live"
		cp -n "$keep"/* "$live"/ 2>/dev/null || true
		echo "== $pkg $target ($fuzztime)"
		log=$(mktemp)
		if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >"$log" 2>&1; then
			execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | awk '{print $2}')
			echo "   ok: ${execs:-?} inputs, no finding"
			total=$((total + ${execs:-0}))
		else
			cat "$log"
			echo "   FINDING in $target (the failing input is under ${rel:-.}/testdata/fuzz/$target/)"
			status=1
		fi
		rm -f "$log"
		cp -n "$live"/* "$keep"/ 2>/dev/null || true
		[ "$status" -eq 0 ] || exit "$status"
	done
done
echo "all fuzz targets ran $fuzztime each, $total inputs in all, no finding"
