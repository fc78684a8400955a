package main

import (
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gnnlab/gognn/experiments/internal/expenv"
	"github.com/gnnlab/gognn/search"
)

// TestRunSynthetic runs the experiment on a small synthetic corpus and checks results.json.
func TestRunSynthetic(t *testing.T) {
	out := t.TempDir()
	o := options{
		Flags:          expenv.Flags{Seed: 1, Out: out},
		Dataset:        "synthetic",
		Synthetic:      Synthetic{N: 2000, Dim: 32, Topics: 10, Noise: 0.26},
		Checkpoints:    []int{0, 100, 200},
		Batch:          50,
		Eval:           200,
		EfConstruction: 100,
		Search:         search.Config{Steps: 5},
	}
	if err := run(io.Discard, o); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Dataset string `json:"dataset"`
		Results []struct {
			Feedback  *int     `json:"feedback"`
			Precision *float64 `json:"precision_at_10"`
			NDCG      *float64 `json:"ndcg_at_10"`
			P50       *float64 `json:"p50_us"`
			P99       *float64 `json:"p99_us"`
		} `json:"results"`
		BaselinePrecision *float64        `json:"baseline_precision_at_10"`
		BaselineP50       *float64        `json:"baseline_p50_us"`
		BaselineP99       *float64        `json:"baseline_p99_us"`
		Env               json.RawMessage `json:"env"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Dataset != "synthetic" {
		t.Errorf("dataset = %q, want synthetic", got.Dataset)
	}
	unitRange := func(name string, v *float64) {
		if v == nil || !(*v >= 0 && *v <= 1) {
			t.Errorf("%s = %v, want a value in [0, 1]", name, v)
		}
	}
	positive := func(name string, v *float64) {
		if v == nil || !(*v > 0) {
			t.Errorf("%s = %v, want a positive latency", name, v)
		}
	}
	unitRange("baseline_precision_at_10", got.BaselinePrecision)
	positive("baseline_p50_us", got.BaselineP50)
	positive("baseline_p99_us", got.BaselineP99)
	if len(got.Env) == 0 || got.Env[0] != '{' {
		t.Errorf("env = %s, want an object", got.Env)
	}
	var fb []int
	for i, r := range got.Results {
		if r.Feedback == nil {
			t.Fatalf("results[%d] has no feedback count", i)
		}
		fb = append(fb, *r.Feedback)
		unitRange("precision_at_10", r.Precision)
		unitRange("ndcg_at_10", r.NDCG)
		positive("p50_us", r.P50)
		positive("p99_us", r.P99)
		if r.P50 != nil && r.P99 != nil && *r.P99 < *r.P50 {
			t.Errorf("results[%d]: p99 %v < p50 %v", i, *r.P99, *r.P50)
		}
	}
	if !slices.Equal(fb, o.Checkpoints) {
		t.Errorf("checkpoints in results.json = %v, want %v", fb, o.Checkpoints)
	}
	if _, err := os.Stat(filepath.Join(out, "precision.png")); err != nil {
		t.Error(err)
	}
}

// TestPoolReuse asks for more feedback queries than the pool holds.
func TestPoolReuse(t *testing.T) {
	out := t.TempDir()
	o := options{
		Flags:          expenv.Flags{Seed: 2, Out: out},
		Dataset:        "synthetic",
		Synthetic:      Synthetic{N: 300, Dim: 16, Topics: 5, Noise: 0.3},
		Checkpoints:    []int{0, 150},
		Batch:          50,
		Eval:           200,
		EfConstruction: 50,
		Search:         search.Config{Steps: 2},
	}
	if err := run(io.Discard, o); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got Results
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if !got.PoolReused || got.Results[len(got.Results)-1].PoolPass != 2 {
		t.Errorf("pool of %d, 150 feedback queries: reused %v, pass %d; want reused on pass 2",
			got.PoolQueries, got.PoolReused, got.Results[len(got.Results)-1].PoolPass)
	}
}

func TestParseCheckpoints(t *testing.T) {
	if got, err := parseAscending("checkpoints", "0, 100,250"); err != nil || !slices.Equal(got, []int{0, 100, 250}) {
		t.Errorf("parseAscending = %v, %v", got, err)
	}
	for _, bad := range []string{"", "100,50", "0,0", "-1", "a"} {
		if _, err := parseAscending("checkpoints", bad); err == nil {
			t.Errorf("parseAscending(%q) accepted", bad)
		}
	}
}

// TestChurn runs -churn on a small corpus and checks what it writes: no deleted id returned,
// recall of the changed index near the fresh ones, precision after the changes near before.
func TestChurn(t *testing.T) {
	out := t.TempDir()
	o := options{
		Flags:          expenv.Flags{Seed: 1, Out: out},
		Synthetic:      Synthetic{N: 2000, Dim: 32, Topics: 10, Noise: 0.26},
		Batch:          50,
		Eval:           200,
		EfConstruction: 100,
		Search:         search.Config{Steps: 5},
	}
	co := ChurnOptions{Efs: []int{10, 40}, Queries: 200, Feedback: 100, FreshSeeds: 2}
	if err := runChurn(io.Discard, o, co); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, "churn", "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got ChurnResults
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Deleted != 200 || got.Updated != 200 || got.Searches == 0 || got.DeletedReturned != 0 {
		t.Errorf("deleted %d, updated %d, %d deleted ids in %d searches", got.Deleted, got.Updated, got.DeletedReturned, got.Searches)
	}
	if len(got.Recall) != 2 || got.Recall[1].Ef != 40 || len(got.Recall[1].Fresh) != 2 {
		t.Fatalf("recall rows %+v", got.Recall)
	}
	for _, r := range got.Recall {
		if !(r.Changed > 0.5) || r.Gap > 0.03 {
			t.Errorf("ef %d: recall@10 %.3f, fresh %v: want within 0.03 of fresh", r.Ef, r.Changed, r.Fresh)
		}
	}
	p := got.P10
	if p.EvalQueries != 200 || !(p.Before > 0.3) || math.Abs(p.After-p.Before) > 0.03 || p.SEAfter <= 0 {
		t.Errorf("precision@10 %+v: want after within 0.03 of before", p)
	}
}
