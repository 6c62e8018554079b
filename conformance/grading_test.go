package conformance

import (
	"strings"
	"testing"

	"github.com/forkproof/forkproof/hygiene"
	"github.com/forkproof/forkproof/spec"
)

// TestEveryGradeHasItsSentence enforces the grading rule of ../shared/GRADING.md on the whole
// catalogue: a case rests on RFC sentences, the deciding one first, and its level is that
// sentence's keyword (so MUST → fail, SHOULD → warn, MAY → info on a miss); a case with no
// sentence states its policy and grades at most warn — hygiene's zombie and fd-leak checks
// excepted, which PRODUCT.md makes failures.
func TestEveryGradeHasItsSentence(t *testing.T) {
	metas := hygiene.Metas()
	for _, c := range Catalogue() {
		metas = append(metas, c.Meta)
	}
	for _, m := range metas {
		if len(m.Sentences) == 0 {
			if m.Policy == "" {
				t.Errorf("%s: no RFC sentence and no policy", m.ID)
			}
			if m.Level != spec.None && m.Category != spec.Hygiene {
				t.Errorf("%s: level %s without a sentence; want none (a policy grades at most warn)", m.ID, m.Level)
			}
			continue
		}
		if got := m.Sentences[0].Keyword; m.Level != got {
			t.Errorf("%s: level %s; its deciding sentence (%s) says %s", m.ID, m.Level, m.Sentences[0].Ref, got)
		}
		for i, s := range m.Sentences {
			if !strings.HasPrefix(s.Ref, "RFC ") || !strings.Contains(s.Ref, "§") || s.Text == "" {
				t.Errorf("%s: sentence %d %+v: want a reference \"RFC N §x\" and its text", m.ID, i+1, s)
			}
			switch s.Keyword {
			case spec.MUST, spec.SHOULD, spec.MAY:
				// RFC 2119: RECOMMENDED is SHOULD, REQUIRED is MUST, OPTIONAL is MAY.
				alias := map[spec.Level]string{spec.MUST: "REQUIRED", spec.SHOULD: "RECOMMENDED", spec.MAY: "OPTIONAL"}[s.Keyword]
				if !strings.Contains(s.Text, string(s.Keyword)) && !strings.Contains(s.Text, alias) {
					t.Errorf("%s: sentence %d (%s) is graded %s but its text does not say %s: %q", m.ID, i+1, s.Ref, s.Keyword, s.Keyword, s.Text)
				}
			case spec.None:
				if i == 0 {
					t.Errorf("%s: the deciding sentence (%s) has no keyword", m.ID, s.Ref)
				}
			default:
				t.Errorf("%s: sentence %d keyword %q", m.ID, i+1, s.Keyword)
			}
		}
	}
}

// TestOutcomeVerdicts: an outcome may be recorded as warn (legal but unsafe) or info;
// one named as a failure (a behaviour breaking a MUST beside the deciding sentence, such as a
// response version the server cannot conform to) needs that MUST sentence quoted in the case.
// A MAY case cannot warn.
func TestOutcomeVerdicts(t *testing.T) {
	for _, c := range spec.Catalogue() {
		citesMust := false
		for _, s := range c.Sentences {
			citesMust = citesMust || s.Keyword == spec.MUST
		}
		for _, st := range c.Steps {
			if st.Expect == nil {
				continue
			}
			for _, o := range st.Expect.Any {
				switch o.Verdict {
				case "", spec.Pass, spec.Info:
				case spec.Warn:
					if c.Level == spec.MAY {
						t.Errorf("%s: outcome %q warns in a MAY case", c.ID, o)
					}
				case spec.Fail:
					if !citesMust {
						t.Errorf("%s: outcome %q fails, but the case quotes no MUST sentence", c.ID, o)
					}
				default:
					t.Errorf("%s: outcome %q has verdict %s; want pass, warn, info or fail", c.ID, o, o.Verdict)
				}
			}
		}
	}
}

// TestScenarioSentencesAreTheCatalogues: a robustness or hygiene scenario quotes only sentences
// package spec holds (those its cases quote, and those it exports for the scenarios), so each
// quote is checked against the RFC in one place.
func TestScenarioSentencesAreTheCatalogues(t *testing.T) {
	known := map[spec.Sentence]bool{}
	for _, s := range []spec.Sentence{spec.SentencePipelineOrder, spec.SentenceCloseNoMore, spec.SentenceCloseAnyTime,
		spec.SentenceInvalid400, spec.SentenceFieldTooLarge, spec.SentenceOctets, spec.SentenceCLFrames, spec.SentenceSenderGrammar} {
		known[s] = true
	}
	for _, c := range spec.Catalogue() {
		for _, s := range c.Sentences {
			known[s] = true
		}
	}
	metas := hygiene.Metas()
	for _, c := range Catalogue() {
		if c.Category != spec.Conformance {
			metas = append(metas, c.Meta)
		}
	}
	for _, m := range metas {
		for _, s := range m.Sentences {
			if !known[s] {
				t.Errorf("%s quotes %s, which package spec does not hold: quote it from there", m.ID, s)
			}
		}
	}
}
