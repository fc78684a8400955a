package main

import (
	"encoding/json"
	"io"
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
	if got, err := parseCheckpoints("0, 100,250"); err != nil || !slices.Equal(got, []int{0, 100, 250}) {
		t.Errorf("parseCheckpoints = %v, %v", got, err)
	}
	for _, bad := range []string{"", "100,50", "0,0", "-1", "a"} {
		if _, err := parseCheckpoints(bad); err == nil {
			t.Errorf("parseCheckpoints(%q) accepted", bad)
		}
	}
}
