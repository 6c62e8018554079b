package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/forkproof/forkproof/conformance"
	"github.com/forkproof/forkproof/spec"
)

// The catalogue, as text and as JSON, shows under every case what its grade rests on: each
// sentence (ref, keyword, quote) or the policy.
func TestSpecPrintsGrounds(t *testing.T) {
	var text, js, errs bytes.Buffer
	if code := specCmd(nil, &text, &errs); code != 0 {
		t.Fatalf("spec: exit %d, %s", code, errs.String())
	}
	if code := specCmd([]string{"-json"}, &js, &errs); code != 0 {
		t.Fatalf("spec -json: exit %d, %s", code, errs.String())
	}
	var metas []spec.Meta
	if err := json.Unmarshal(js.Bytes(), &metas); err != nil {
		t.Fatal(err)
	}
	if len(metas) != len(catalogueMetas()) {
		t.Fatalf("spec -json lists %d cases; want %d", len(metas), len(catalogueMetas()))
	}
	want := catalogueMetas()
	for i, m := range metas {
		if len(m.Sentences) != len(want[i].Sentences) || m.Policy != want[i].Policy {
			t.Errorf("%s: JSON has sentences %v, policy %q; want %v, %q", m.ID, m.Sentences, m.Policy, want[i].Sentences, want[i].Policy)
		}
		for _, g := range conformance.Grounds(m) {
			if !strings.Contains(text.String(), "\n    "+g+"\n") {
				t.Errorf("%s: spec text lacks %q", m.ID, g)
			}
		}
	}
}
