#!/bin/bash -eu
# ClusterFuzzLite/OSS-Fuzz build: every native Go fuzz target in .clusterfuzzlite/targets.txt
# as a libFuzzer binary in $OUT, with compile_native_go_fuzzer (go-118-fuzz-build + clang), a
# seed corpus (the committed testdata/fuzz/<Target>/ inputs in the encoding of
# go-118-fuzz-build's testing shim) and the HTTP dictionary. ci/libfuzzer.sh does the same
# outside the image, so this recipe is exercised by every CI run; keep the two alike.
#
# The image's copy of the source is thrown away after the build, so the recipe edits it in
# place: go-118-fuzz-build only sees non-test files, so each target package's own _test.go
# files become non-test files (its documented recipe for harnesses that use test helpers), and
# its testing shim joins go.mod.
cd "$SRC/forkproof"
g118=github.com/AdamKorcz/go-118-fuzz-build
g118_version=v0.0.0-20250520111509-a70c2aa677fa # as in ci/libfuzzer.sh
go get "$g118/testing@$g118_version"

go build -o /tmp/forkproof-seeds ci/libfuzzer/seeds.go
renamed=" "
while read -r pkg fn; do
	case $pkg in '' | '#'*) continue ;; esac
	dir=${pkg#./}
	case $renamed in *" $dir "*) ;; *)
		for f in "$dir"/*_test.go; do
			# go test's side of a target with a libFuzzer twin (//go:build !libfuzzer) is not
			# part of this build, and would make compile_native_go_fuzzer's grep find two files.
			if grep -q '^//go:build !libfuzzer$' "$f"; then
				rm "$f"
			elif ! grep -qE '^package [A-Za-z0-9_]+_test$' "$f"; then
				mv "$f" "${f%_test.go}_libfuzzer.go"
			fi
		done
		renamed="$renamed$dir "
		;;
	esac
	# compile_native_go_fuzzer takes the one file of the package that names the target; a
	# test helper that names it in a string (the seed corpus writer) is spelled apart here.
	for f in $(grep -l "\"$fn\"" "$dir"/*.go || true); do
		grep -q "^func $fn(" "$f" || sed -i "s/\"$fn\"/\"${fn:0:4}\" + \"${fn:4}\"/g" "$f"
	done
	compile_native_go_fuzzer "github.com/forkproof/forkproof/$dir" "$fn" "$fn"

	cp ci/libfuzzer/http.dict "$OUT/$fn.dict"
	seeds=$(mktemp -d)
	if [ -d "$dir/testdata/fuzz/$fn" ]; then
		/tmp/forkproof-seeds "$seeds" "$dir/testdata/fuzz/$fn"/*
	fi
	if [ -n "$(ls -A "$seeds")" ]; then
		(cd "$seeds" && zip -q -r "$OUT/${fn}_seed_corpus.zip" .)
	fi
	rm -rf "$seeds"
done <.clusterfuzzlite/targets.txt
