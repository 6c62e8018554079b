package fuzz

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/forkproof/forkproof/spec"
)

// SummaryFile is the name of a campaign's summary in its -out directory.
const SummaryFile = "findings.json"

// Summary is a campaign's findings.json: what ran and what it found. Campaigns run as shards
// or on several machines are merged from their summaries (Merge).
type Summary struct {
	Tool string `json:"tool"` // "forkproof fuzz"
	// Parts lists the campaigns merged, each "seed S shard I/N" (a whole campaign is shard
	// 0/1); Seeds their seeds.
	Seeds     []uint64         `json:"seeds"`
	Parts     []string         `json:"parts"`
	Inputs    int64            `json:"inputs"`
	Judged    int64            `json:"judged"`
	ElapsedMS int64            `json:"elapsed_ms"`
	Findings  []SummaryFinding `json:"findings"`
}

// SummaryFinding is one finding of a Summary; File is its reproducer, in the same directory.
type SummaryFinding struct {
	Signature string `json:"signature"`
	Kind      string `json:"kind"`
	Grade     string `json:"grade"`
	Ground    string `json:"ground"`
	Count     int    `json:"count"`
	Variants  int    `json:"variants"`
	File      string `json:"file,omitempty"`
	Detail    string `json:"detail"`
}

const summaryTool = "forkproof fuzz"

func summaryOf(rep *Report, cfg *Config) *Summary {
	return &Summary{Tool: summaryTool, Seeds: []uint64{cfg.Seed}, Parts: []string{fmt.Sprintf("seed %d shard %d/%d", cfg.Seed, cfg.Shard, cfg.Shards)},
		Inputs: rep.Inputs, Judged: rep.Judged, ElapsedMS: rep.Elapsed.Milliseconds()}
}

// writeFindings writes each finding's reproducer (where it has a file) and the summary, with
// the findings, to dir.
func writeFindings(dir string, sum *Summary, fs []*Finding) error {
	sum.Findings = nil
	for _, f := range fs {
		if f.File != "" {
			f.Repro.Count, f.Repro.Variants = f.Count, f.Variants
			if err := f.Repro.Write(f.File); err != nil {
				return err
			}
		}
		file := ""
		if f.File != "" {
			file = filepath.Base(f.File)
		}
		sum.Findings = append(sum.Findings, SummaryFinding{Signature: f.Signature, Kind: f.Kind, Grade: string(f.Grade),
			Ground: f.Ground, Count: f.Count, Variants: f.Variants, File: file, Detail: f.Detail})
	}
	b, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, SummaryFile), append(b, '\n'), 0o644)
}

// ReadSummary loads the summary of the campaign whose -out directory is dir.
func ReadSummary(dir string) (*Summary, error) {
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: no %s: not the -out directory of a finished campaign", dir, SummaryFile)
	}
	if err != nil {
		return nil, err
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil || s.Tool != summaryTool {
		return nil, fmt.Errorf("%s: not a forkproof campaign summary (tool %q): %v", filepath.Join(dir, SummaryFile), s.Tool, err)
	}
	return &s, nil
}

// Merge merges the findings of the campaigns whose -out directories are dirs (shards of one
// campaign, or campaigns run on several machines): findings with one signature become one,
// their counts added and the smallest reproducer kept. With out set, the merged reproducers
// and summary are written there (it must not be one of dirs).
func Merge(dirs []string, out string) (*Summary, []*Finding, error) {
	if len(dirs) == 0 {
		return nil, nil, errors.New("fuzz merge: no directory to merge")
	}
	for _, d := range dirs {
		if out != "" && filepath.Clean(d) == filepath.Clean(out) {
			return nil, nil, fmt.Errorf("fuzz merge: -out %s is one of the directories merged", out)
		}
	}
	merged := &Summary{Tool: summaryTool}
	bySig := map[string]*Finding{}
	var order []*Finding
	for _, dir := range dirs {
		s, err := ReadSummary(dir)
		if err != nil {
			return nil, nil, err
		}
		for _, seed := range s.Seeds {
			if !slices.Contains(merged.Seeds, seed) {
				merged.Seeds = append(merged.Seeds, seed)
			}
		}
		for _, p := range s.Parts {
			if slices.Contains(merged.Parts, p) {
				return nil, nil, fmt.Errorf("fuzz merge: %s: %s is merged twice (its counts would be added twice)", dir, p)
			}
			merged.Parts = append(merged.Parts, p)
		}
		merged.Inputs += s.Inputs
		merged.Judged += s.Judged
		merged.ElapsedMS = max(merged.ElapsedMS, s.ElapsedMS)
		for _, sf := range s.Findings {
			f := &Finding{Kind: sf.Kind, Grade: spec.Verdict(sf.Grade), Ground: sf.Ground, Signature: sf.Signature,
				Detail: sf.Detail, Count: sf.Count, Variants: sf.Variants}
			if sf.File != "" {
				if f.Repro, err = ReadRepro(filepath.Join(dir, sf.File)); err != nil {
					return nil, nil, err
				}
			}
			old := bySig[f.Signature]
			if old == nil {
				bySig[f.Signature] = f
				order = append(order, f)
				continue
			}
			old.Count += f.Count
			if f.Repro != nil && (old.Repro == nil || !slices.Equal(f.Repro.Send, old.Repro.Send)) {
				old.Variants += f.Variants
				if old.Repro == nil || smaller(f.Repro, old.Repro) {
					old.Repro, old.Detail = f.Repro, f.Detail
				}
			}
		}
	}
	if out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			return nil, nil, fmt.Errorf("fuzz merge: -out: %v", err)
		}
		for i, f := range order {
			if f.Repro != nil {
				f.File = filepath.Join(out, fmt.Sprintf("%02d-%s.json", i+1, sanitize(f.Signature)))
			}
		}
		if err := writeFindings(out, merged, order); err != nil {
			return nil, nil, fmt.Errorf("fuzz merge: -out: %v", err)
		}
	}
	return merged, order, nil
}
