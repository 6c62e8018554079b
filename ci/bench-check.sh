#!/usr/bin/env bash
# Benchmark of issue 10 ("a whole check in seconds"): times the WHOLE `forkproof check` (every
# case, hygiene included; no -run unless a pair is about -run) against pairs of targets, the two
# commands of a pair interleaved round by round so that noise from other work on the machine
# hits both, and prints the median wall-clock seconds of each and their ratio:
#   c-buggy / c-good      testdata/cservers/cserver.c with and without -DPLANTED_BUGS: the same C fork-per-connection
#                         server, with and without two planted bugs (a dropped pipelined
#                         request, a hang on NUL); goal: ratio <= 1.5
#   mini_httpd / nginx    two real servers of the interop matrix (testdata/interop/serve.sh)
#   default / catalogue   `check` against the embedded reference server vs `check -run '^rfc'`
#                         (the catalogue alone); goal: ratio <= 2.5
#   fork / prefork        `check -run '^rfc'` against `forkproof serve -mode prefork` and
#                         `-mode fork`; goals: under 1 s (prefork) and 3 s (fork) on a quiet
#                         machine, so the absolute seconds are printed too
# A failing case (check exits 1) is a result, not an error: exit codes are shown per run.
# Usage: ci/bench-check.sh [rounds, default 3]. One round takes a few minutes. Installs gcc,
# nginx-light and mini-httpd if missing (Debian/Ubuntu, needs root). Prints the load average
# at the start and the end; nothing it starts outlives it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
ROUNDS=${1:-3}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [rounds]" >&2; exit 2; }

need=()
command -v gcc >/dev/null || need+=(gcc libc6-dev)
command -v nginx >/dev/null || need+=(nginx-light)
command -v mini_httpd >/dev/null || need+=(mini-httpd)
if [ ${#need[@]} -gt 0 ]; then
	echo "installing ${need[*]}" >&2
	# Debian starts a packaged daemon on installation; we start our own, on our own ports.
	policy=/usr/sbin/policy-rc.d made_policy=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
	fi
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
	[ $made_policy = 0 ] || rm -f "$policy"
fi

tmp=$(mktemp -d /tmp/forkproof-bench-check.XXXXXX)
chmod 755 "$tmp" # mini_httpd drops privileges and reads its document root under it
# Every process started from here carries BENCH_CHECK_DIR in its environment: cleanup finds
# what a check could not stop (serve.sh keeps its own per-port directories under it too).
export BENCH_CHECK_DIR=$tmp INTEROP_DIR=$tmp/interop
running=""
# shellcheck source=ci/strays.sh
source ci/strays.sh # the script runs from the repository root
cleanup() {
	local pids
	# SIGTERM makes a running check stop its target (it waits up to 3 s for it).
	if [ -n "$running" ]; then
		kill -TERM "$running" 2>/dev/null || true
		for _ in $(seq 60); do kill -0 "$running" 2>/dev/null || break; sleep 0.1; done
	fi
	pids=$(stray_pids "BENCH_CHECK_DIR=$tmp")
	if [ -n "$pids" ]; then
		echo "stopping leftover processes $pids" >&2
		kill -TERM $pids 2>/dev/null || true
		for _ in $(seq 30); do [ -n "$(stray_pids "BENCH_CHECK_DIR=$tmp")" ] || break; sleep 0.1; done
		pids=$(stray_pids "BENCH_CHECK_DIR=$tmp")
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
# Static, like ci/bench.sh: fork mode starts the binary once per connection.
fp=$tmp/forkproof
CGO_ENABLED=0 go build -o "$fp" ./cmd/forkproof
gcc -O2 -Wall -Wextra -o "$tmp/good" testdata/cservers/cserver.c
gcc -O2 -Wall -Wextra -DPLANTED_BUGS -o "$tmp/buggy" testdata/cservers/cserver.c

# The pairs: name, then the forkproof arguments of its two commands (A is timed against B).
pairs=(c-buggy/c-good mini_httpd/nginx default/catalogue fork/prefork)
declare -A ARGS=(
	[c-buggy]="check -target-cmd '$tmp/buggy {port}'"
	[c-good]="check -target-cmd '$tmp/good {port}'"
	[mini_httpd]="check -target-cmd 'bash testdata/interop/serve.sh mini_httpd {port}'"
	[nginx]="check -target-cmd 'bash testdata/interop/serve.sh nginx {port}'"
	[default]="check"
	[catalogue]="check -run '^rfc'"
	[fork]="check -run '^rfc' -target-cmd '$fp serve -addr 127.0.0.1:{port} -mode fork'"
	[prefork]="check -run '^rfc' -target-cmd '$fp serve -addr 127.0.0.1:{port} -mode prefork'"
)
declare -A SECS RCS # name -> the seconds (exit codes) of its rounds, space-separated

# run NAME ROUND: one timed check, its output kept in $tmp/NAME.ROUND.txt.
run() {
	local name=$1 round=$2 t0 t1 rc=0 secs
	eval "local args=(${ARGS[$name]})"
	t0=$(date +%s.%N)
	"$fp" "${args[@]}" >"$tmp/$name.$round.txt" 2>&1 &
	running=$!
	wait "$running" || rc=$?
	running=""
	t1=$(date +%s.%N)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
	SECS[$name]+="$secs " RCS[$name]+="$rc "
	printf '  round %d %-11s %7.2fs  exit %d  %s\n' "$round" "$name" "$secs" "$rc" \
		"$(grep -E '^[0-9]+ cases against' "$tmp/$name.$round.txt" | sed 's/ against [^ ]*:/:/')" >&2
	case $rc in
	0 | 1) ;;
	*) sed 's/^/    /' "$tmp/$name.$round.txt" | tail -n 5 >&2 ;; # 2: could not judge the target
	esac
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "timing the whole check, $ROUNDS round(s), the two commands of a pair interleaved" >&2
for round in $(seq "$ROUNDS"); do
	for pair in "${pairs[@]}"; do
		# Alternate which command goes first, so neither always inherits the other's aftermath.
		if [ $((round % 2)) = 1 ]; then run "${pair%/*}" "$round"; run "${pair#*/}" "$round"
		else run "${pair#*/}" "$round"; run "${pair%/*}" "$round"; fi
	done
done

printf '\n%-20s %9s %9s %7s  %-33s %s\n' "pair A / B" "A median" "B median" "A/B" goal "exit codes A | B"
for pair in "${pairs[@]}"; do
	a=${pair%/*} b=${pair#*/}
	ma=$(median <<<"${SECS[$a]}") mb=$(median <<<"${SECS[$b]}")
	case $pair in
	c-buggy/c-good) goal="A/B <= 1.5" ;;
	default/catalogue) goal="A/B <= 2.5" ;;
	fork/prefork) goal="A < 3 s, B < 1 s (quiet machine)" ;;
	*) goal="-" ;;
	esac
	awk -v p="$pair" -v a="$ma" -v b="$mb" -v g="$goal" -v ra="${RCS[$a]% }" -v rb="${RCS[$b]% }" \
		'BEGIN {printf "%-20s %8.2fs %8.2fs %6.2fx  %-33s %s | %s\n", p, a, b, (b > 0 ? a / b : 0), g, ra, rb}'
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
