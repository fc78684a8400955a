package main

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gnnlab/gognn/experiments/internal/expenv"
	"github.com/gnnlab/gognn/models"
)

func TestXuGrid(t *testing.T) {
	g := xuGrid()
	if len(g) != 8 {
		t.Fatalf("%d points, want 8", len(g))
	}
	seen := map[GridPoint]bool{}
	for _, p := range g {
		if seen[p] || (p.Hidden != 16 && p.Hidden != 32) || (p.Batch != 32 && p.Batch != 128) || (p.Dropout != 0 && p.Dropout != 0.5) {
			t.Errorf("point %+v repeated or outside hidden {16, 32}, batch {32, 128}, dropout {0, 0.5}", p)
		}
		seen[p] = true
	}
}

// TestMergeGrid joins two -grid runs of disjoint folds and refuses a run of another grid.
func TestMergeGrid(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, r Result) string {
		t.Helper()
		d := filepath.Join(dir, name)
		if err := expenv.WriteJSON(d, "results.json", map[string]any{"results": []Result{r}}); err != nil {
			t.Fatal(err)
		}
		return d
	}
	grid := xuGrid()
	run := func(fold int, acc float64, chosen int) Result {
		va := make([]float64, len(grid))
		va[chosen] = 0.9
		return Result{Model: "gin", Dataset: "MUTAG", FoldsTotal: 10, Epochs: 350, Layers: 5, Selection: "val", Patience: 50, Grid: grid,
			FoldIndex: []int{fold}, FoldAcc: []float64{acc}, FoldEpoch: []int{3}, FoldFinalAcc: []float64{acc}, FoldMs: []float64{1}, FoldRan: []int{53},
			FoldChosen: []GridPoint{grid[chosen]}, FoldGridVA: [][]float64{va}}
	}
	a, b := write("a", run(0, 0.8, 2)), write("b", run(1, 0.9, 5))
	out := filepath.Join(dir, "merged")
	if err := mergeRuns(expenv.Flags{Out: out}, []string{a, b}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Results []Result }
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	m := doc.Results[0]
	if m.Folds != 2 || !slices.Equal(m.FoldChosen, []GridPoint{grid[2], grid[5]}) || len(m.FoldGridVA) != 2 || m.FoldGridVA[1][5] != 0.9 || m.AccMean < 0.849 || m.AccMean > 0.851 {
		t.Errorf("merged %d folds, chosen %v, validation %v, mean %.3f", m.Folds, m.FoldChosen, m.FoldGridVA, m.AccMean)
	}
	other := run(2, 0.7, 0)
	other.Grid = grid[:4]
	if err := mergeRuns(expenv.Flags{Out: out}, []string{a, write("c", other)}); err == nil {
		t.Error("runs of different grids were merged")
	}
}

// TestFoldSets checks each selection's training and validation graphs: valloss validates on
// the previous fold (fold 0 on the last) and trains on the other k-2.
func TestFoldSets(t *testing.T) {
	labels := make([]int, 60)
	for i := range labels {
		labels[i] = i % 3
	}
	folds, err := models.StratifiedFolds(labels, 5, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	for _, sel := range []string{"final", "val", "valloss"} {
		for f := range folds {
			train, val, err := foldSets(folds, f, sel, labels, 1)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[int]bool{}
			for _, i := range append(append(append([]int{}, train...), val...), folds[f]...) {
				if seen[i] {
					t.Fatalf("%s fold %d: graph %d in two sets", sel, f, i)
				}
				seen[i] = true
			}
			if len(seen) != len(labels) {
				t.Errorf("%s fold %d: %d graphs in the three sets, want %d", sel, f, len(seen), len(labels))
			}
			switch sel {
			case "final":
				if len(val) != 0 {
					t.Errorf("final fold %d: %d validation graphs", f, len(val))
				}
			case "val":
				if len(val) != 5 {
					t.Errorf("val fold %d: %d validation graphs, want a tenth of 48 (5)", f, len(val))
				}
			case "valloss":
				if prev := (f + len(folds) - 1) % len(folds); !slices.Equal(val, folds[prev]) {
					t.Errorf("valloss fold %d: validation graphs %v, want fold %d %v", f, val, prev, folds[prev])
				}
			}
		}
	}
}
