#!/usr/bin/env bash
# ci/interop.sh [-update] [NAME...]: the interop matrix. Runs the whole `forkproof check` against
# each of eight real servers (testdata/interop/serve.sh: nginx apache lighttpd busybox mini_httpd
# python go node), one after the other (CI machines have few cores), compares every verdict with
# testdata/interop/NAME.expect, and writes docs/interop.md with `forkproof matrix`.
#
# A difference fails the run, unless it is timing noise: the differing cases alone are re-run,
# up to twice, and a difference counts only when every re-run shows it too.
#
# -update rewrites the expect files from the runs instead of failing: unchanged lines keep their
# reason; a new or changed fail or warn gets a reason starting with TODO, for a person to check
# against its RFC sentence and transcript and then to rewrite.
#
# Installs the servers it lacks with apt-get (nginx-light apache2 lighttpd busybox mini-httpd
# nodejs python3). An expect file holds for the server versions in testdata/interop/versions
# (written by -update): against another version differences are reported, not failed. Every server, temp dir and stray process is gone when it exits.
# Bounds: each check is stopped after INTEROP_CHECK_TIMEOUT (default 5m); all eight take about
# 4 minutes on two cores. The HTML matrix goes to $INTEROP_HTML when set.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

update=0
if [ "${1:-}" = -update ]; then
	update=1
	shift
fi
all=(nginx apache lighttpd busybox mini_httpd python go node)
servers=("$@")
[ ${#servers[@]} -gt 0 ] || servers=("${all[@]}")
check_timeout=${INTEROP_CHECK_TIMEOUT:-5m}

# ---- install what is missing ----
declare -A pkg=([nginx]=nginx-light [apache2]=apache2 [lighttpd]=lighttpd [busybox]=busybox [mini_httpd]=mini-httpd [node]=nodejs [python3]=python3)
missing=()
for bin in "${!pkg[@]}"; do
	command -v "$bin" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$bin" >/dev/null 2>&1 || missing+=("${pkg[$bin]}")
done
export PATH="$PATH:/usr/sbin:/sbin"
if [ ${#missing[@]} -gt 0 ]; then
	echo "interop: installing ${missing[*]}"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	# Debian starts a packaged daemon on installation; we start our own, on our own ports.
	policy=/usr/sbin/policy-rc.d
	made_policy=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
		$sudo chmod 755 "$policy"
		made_policy=1
	fi
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
	[ $made_policy = 0 ] || $sudo rm -f "$policy"
fi
command -v python3 >/dev/null || { echo "interop: python3 is missing" >&2; exit 2; }

# ---- versions: an expect file holds for the server version it was written against ----
# testdata/interop/versions lists "NAME version"; a server of another version (another
# machine's packages) is another server: its differences are reported, not failed.
versions=testdata/interop/versions
version_of() {
	case $1 in
	nginx) nginx -v 2>&1 | head -n 1 ;;
	apache) apache2 -v 2>&1 | head -n 1 ;;
	lighttpd) lighttpd -v 2>&1 | head -n 1 | cut -d' ' -f1 ;;
	busybox) busybox 2>&1 | head -n 1 | cut -d' ' -f1-2 ;;
	mini_httpd) mini_httpd -V 2>&1 | head -n 1 | cut -d' ' -f1 ;;
	python) python3 --version 2>&1 ;;
	go) go env GOVERSION ;;
	node) node --version 2>&1 ;;
	esac
}
recorded_version() {
	[ -e "$versions" ] || return 0
	awk -v n="$1" '$1 == n { $1 = ""; sub(/^ /, ""); print; exit }' "$versions"
}

# ---- temp dir, and the cleanup of everything started under it ----
tmp=$(mktemp -d "${TMPDIR:-/tmp}/forkproof-interop.XXXXXX")
export INTEROP_DIR=$tmp/servers
mkdir -p "$INTEROP_DIR"
chmod 755 "$tmp" "$INTEROP_DIR" # servers that drop privileges read their document root
# Processes started for this run carry INTEROP_DIR=$tmp/... in their
# environment (a server forkproof could not stop, say after a timeout). No other process can.
# shellcheck source=ci/strays.sh
source ci/strays.sh # the script runs from the repository root
cleanup() {
	local pids
	pids=$(stray_pids "INTEROP_DIR=$INTEROP_DIR")
	if [ -n "$pids" ]; then
		echo "interop: stopping leftover processes $pids" >&2
		kill $pids 2>/dev/null || true
		for _ in $(seq 50); do # up to 5s for them to exit, then the forced kill
			[ -n "$(stray_pids "INTEROP_DIR=$INTEROP_DIR")" ] || break
			sleep 0.1
		done
		pids=$(stray_pids "INTEROP_DIR=$INTEROP_DIR")
		[ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- build ----
fp=$tmp/forkproof
go build -o "$fp" ./cmd/forkproof
export GOSERVER=$tmp/goserver
go build -o "$GOSERVER" ./testdata/interop/goserver

# check NAME OUT [PATTERN]: one check of NAME, its JSON report in OUT. A run that leaves no
# report (the server did not start, the check timed out) is an error.
check() {
	local name=$1 out=$2 pattern=${3:-} rc=0
	local args=(check -target-cmd "bash testdata/interop/serve.sh $name {port}" -json "$out")
	[ -z "$pattern" ] || args+=(-run "$pattern")
	timeout --kill-after=30s "$check_timeout" "$fp" "${args[@]}" >"$out.txt" 2>&1 || rc=$?
	case $rc in
	0 | 1) return 0 ;; # 1: some case fails; the expect file says whether it should
	esac
	echo "interop: $name: forkproof check exited $rc (124: timed out after $check_timeout)" >&2
	tail -20 "$out.txt" >&2
	return 1
}

failed=()
columns=()
for name in "${servers[@]}"; do
	expect=testdata/interop/$name.expect
	started=$SECONDS
	if ! check "$name" "$tmp/$name.json"; then
		failed+=("$name")
		continue
	fi
	runs=("$tmp/$name.json")
	if [ -e "$expect" ]; then
		# Re-run what differs, up to twice: timing noise on a busy machine clears, a real
		# difference stays.
		for attempt in 1 2; do
			rc=0
			"$fp" matrix -expect "$expect" -retry "$tmp/$name.retry" "${runs[@]}" >/dev/null || rc=$?
			[ $rc = 1 ] || break
			pattern=$(cat "$tmp/$name.retry")
			[ -n "$pattern" ] || break
			echo "interop: $name: re-running $(tr '|' '\n' <<<"$pattern" | wc -l) differing case(s), attempt $attempt"
			check "$name" "$tmp/$name.rerun$attempt.json" "$pattern" || break
			runs+=("$tmp/$name.rerun$attempt.json")
		done
	fi
	if [ $update = 1 ]; then
		"$fp" matrix -expect "$expect" -update "${runs[@]}"
		{
			[ ! -e "$versions" ] || grep -v "^$name " "$versions" || true
			echo "$name $(version_of "$name")"
		} | sort >"$tmp/versions" && cp "$tmp/versions" "$versions"
		echo "interop: $name: wrote $expect ($(grep -c TODO "$expect" || true) line(s) to review) in $((SECONDS - started))s"
		"$fp" matrix -expect "$expect" -merged "$tmp/$name.merged.json" "${runs[@]}" >/dev/null || true
	elif [ ! -e "$expect" ]; then
		echo "interop: $name: no $expect (write it: ci/interop.sh -update $name)" >&2
		failed+=("$name")
	else
		rc=0
		"$fp" matrix -expect "$expect" -merged "$tmp/$name.merged.json" "${runs[@]}" >"$tmp/$name.diff" || rc=$?
		have=$(version_of "$name") want=$(recorded_version "$name")
		if [ $rc != 0 ] && [ -n "$want" ] && [ "$have" != "$want" ]; then
			echo "interop: $name: $(wc -l <"$tmp/$name.diff") verdict(s) differ from $expect, which was written against $want; this is $have, so they are reported, not failed:"
			sed 's/^/  /' "$tmp/$name.diff"
		elif [ $rc != 0 ]; then
			echo "interop: $name: $(wc -l <"$tmp/$name.diff") verdict(s) differ from $expect:" >&2
			sed 's/^/  /' "$tmp/$name.diff" >&2
			failed+=("$name")
		else
			echo "interop: $name: every verdict as expected in $((SECONDS - started))s"
		fi
	fi
	[ -e "$tmp/$name.merged.json" ] && columns+=("$name=$tmp/$name.merged.json")
done

# The published matrix: only from a run of all eight.
if [ ${#columns[@]} = ${#all[@]} ]; then
	html_args=()
	[ -z "${INTEROP_HTML:-}" ] || html_args=(-html "$INTEROP_HTML")
	mkdir -p docs
	"$fp" matrix -md "$tmp/interop.md" "${html_args[@]}" "${columns[@]}"
	{
		head -n 1 "$tmp/interop.md"
		cat <<'INTRO'

Written by `ci/interop.sh` (do not edit): the whole `forkproof check` against eight servers in
their default configuration as `testdata/interop/serve.sh` starts them, one column each. Every
fail, warn and skip is listed with its reason in `testdata/interop/NAME.expect`, and CI fails
when any verdict changes. A grade follows the keyword of the RFC sentence the case quotes
(MUST → fail, SHOULD → warn, MAY → pass or info), or is at most warn for a stated policy;
each entry below quotes it. Compare your own server the same way:
`forkproof check -target-cmd '...' -json mine.json`, then
`forkproof matrix -html matrix.html mine.json nginx=...json ...`.
INTRO
		tail -n +2 "$tmp/interop.md"
	} >docs/interop.md
	echo "interop: wrote docs/interop.md${INTEROP_HTML:+ and $INTEROP_HTML}"
fi
if [ ${#failed[@]} -gt 0 ]; then
	echo "interop: FAILED: ${failed[*]} (an intended change of verdicts: ci/interop.sh -update ${failed[*]}, then review the TODO lines)" >&2
	exit 1
fi
echo "interop: ok (${servers[*]})"
