#!/usr/bin/env bash
# Times the whole `forkproof check` of two forkproof binaries (say, before and after a change)
# against the same targets, the two runs of a target back to back so machine noise hits both,
# and prints seconds, the ratio and each run's summary line (verdict counts must match).
# Usage: ci/bench-versions.sh OLD_BINARY NEW_BINARY [TARGET...]
# A TARGET is a name of testdata/interop/serve.sh (nginx apache lighttpd busybox mini_httpd
# python go node), "default" (the embedded reference server), "catalogue" (check -run '^rfc'
# against it) or a command with {port}. Default: the eight servers, the two C servers of
# testdata/cservers, default and catalogue. The servers must be installed (ci/interop.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n '2,9p' "$0" >&2; exit 2; }
old=$1 new=$2
shift 2
tmp=$(mktemp -d /tmp/forkproof-versions.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
gcc -O2 -o "$tmp/c-good" testdata/cservers/cserver.c
gcc -O2 -DPLANTED_BUGS -o "$tmp/c-buggy" testdata/cservers/cserver.c
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(nginx apache lighttpd busybox mini_httpd python go node c-good c-buggy default catalogue)
printf '%-11s %9s %9s %7s  %s\n' target old new new/old 'summaries (old | new)'
for t in "${targets[@]}"; do
	args=()
	case $t in
	default) ;;
	catalogue) args=(-run '^rfc') ;;
	c-good | c-buggy) args=(-target-cmd "$tmp/$t {port}") ;;
	*{port}*) args=(-target-cmd "$t") ;;
	*) args=(-target-cmd "bash testdata/interop/serve.sh $t {port}") ;;
	esac
	for b in old new; do
		bin=${!b}
		start=$(date +%s.%N)
		"$bin" check "${args[@]}" >"$tmp/$b.out" 2>/dev/null || true
		end=$(date +%s.%N)
		echo "$end - $start" | bc >"$tmp/$b.secs"
	done
	o=$(cat "$tmp/old.secs") n=$(cat "$tmp/new.secs")
	printf '%-11s %8.1fs %8.1fs %6.2fx  %s | %s\n' "$t" "$o" "$n" "$(echo "$n / $o" | bc -l)" \
		"$(tail -1 "$tmp/old.out" | sed 's/ against [0-9.]*:[0-9]*//; s/ in [0-9.]*m\?s$//')" \
		"$(tail -1 "$tmp/new.out" | sed 's/ against [0-9.]*:[0-9]*//; s/ in [0-9.]*m\?s$//')"
done
