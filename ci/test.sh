#!/usr/bin/env bash
# The project's test job: formatting, vet, linters, and the full test suite (README's test command).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
go version
unformatted=$(gofmt -l . || true)
if [ -n "$unformatted" ]; then
	echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi
go mod tidy -diff # go.mod and go.sum list exactly what the code imports
go vet ./...
# Linters at pinned versions, fetched from the module proxy: staticcheck, and deadcode for
# functions nothing reaches (the tests count as callers, so the exported API needs a test).
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
dead=$(go run golang.org/x/tools/cmd/deadcode@v0.52.0 -test ./...)
if [ -n "$dead" ]; then
	echo "unreachable code:"; echo "$dead"; exit 1
fi
go test -count=1 -timeout 20m ./...

# The native fuzz targets as libFuzzer binaries, 5 s each (ci/libfuzzer.sh: go-118-fuzz-build
# and clang, the OSS-Fuzz/ClusterFuzzLite recipe), so that the recipe cannot rot and the targets
# meet a second fuzzer. About 1.5-2 minutes on 2 cores from a cold build cache, plus clang's
# install (apt-get) where it is missing. CI runs it; FORKPROOF_LIBFUZZER=0 turns it off, and
# outside CI it is skipped where clang can be neither found nor installed.
if [ "${FORKPROOF_LIBFUZZER:-}" = 0 ]; then
	echo "libFuzzer targets: skipped (FORKPROOF_LIBFUZZER=0)"
elif [ -z "${CI:-}" ] && [ "${FORKPROOF_LIBFUZZER:-}" != 1 ] && ! command -v apt-get >/dev/null && ! PATH="$PATH:/usr/lib/llvm-14/bin" command -v clang >/dev/null; then
	echo "libFuzzer targets: skipped (no clang and no apt-get to install it; FORKPROOF_LIBFUZZER=1 forces it)"
else
	timeout 20m bash ci/libfuzzer.sh 5
fi

# The interop matrix: the whole check against eight real servers, every verdict compared with
# testdata/interop/*.expect (ci/interop.sh installs the servers it lacks with apt-get). CI runs
# it; FORKPROOF_INTEROP=0 turns it off, and outside CI it is skipped where the servers can be
# neither found nor installed.
if [ "${FORKPROOF_INTEROP:-}" = 0 ]; then
	echo "interop matrix: skipped (FORKPROOF_INTEROP=0)"
elif [ -z "${CI:-}" ] && [ "${FORKPROOF_INTEROP:-}" != 1 ] && ! command -v apt-get >/dev/null && ! PATH="$PATH:/usr/sbin" command -v nginx >/dev/null; then
	echo "interop matrix: skipped (no apt-get to install the servers; FORKPROOF_INTEROP=1 forces it)"
else
	timeout 30m bash ci/interop.sh
fi
