//go:build !libfuzzer

package fuzz

import (
	"testing"

	"pgregory.net/rapid"
)

// The generator properties as native fuzz targets. rapid.MakeFuzz needs the standard
// *testing.T, which go-118-fuzz-build's libFuzzer build replaces with its shim; that build
// (tag libfuzzer) takes generated_libfuzzer_test.go instead, which checks the same properties
// with the draws taken from the fuzzer's bytes.

// FuzzGeneratedRequest exposes the valid-request property to go test -fuzz.
func FuzzGeneratedRequest(f *testing.F) { f.Fuzz(rapid.MakeFuzz(propValidRequest)) }

// FuzzGeneratedInvalid exposes the mutation property to go test -fuzz.
func FuzzGeneratedInvalid(f *testing.F) { f.Fuzz(rapid.MakeFuzz(propInvalidRequest)) }
