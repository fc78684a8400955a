package main

import (
	"io"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/gnnlab/gognn/datasets"
	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/modelfile"
)

// tiny returns a generated task: a random undirected graph, sparse random features whose first
// columns hint at the class, and a split.
func tiny(t *testing.T) data {
	const n, f, k = 90, 24, 3
	a, err := graph.Random(n, 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	if a, err = a.Symmetrize(); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	m := &datasets.SparseMatrix{Rows: n, Cols: f, RowPtr: []int{0}}
	d := data{name: "tiny", graph: a, feats: m, classes: k}
	for i := 0; i < n; i++ {
		label := i % k
		d.labels = append(d.labels, label)
		m.ColIdx = append(m.ColIdx, int32(label))
		m.Values = append(m.Values, 1)
		for j := k; j < f; j++ {
			if rng.Float64() < 0.2 {
				m.ColIdx = append(m.ColIdx, int32(j))
				m.Values = append(m.Values, float32(rng.Float64()))
			}
		}
		m.RowPtr = append(m.RowPtr, len(m.ColIdx))
		switch {
		case i < 30:
			d.train = append(d.train, i)
		case i < 50:
			d.val = append(d.val, i)
		default:
			d.test = append(d.test, i)
		}
	}
	return d
}

func TestMeasureTiny(t *testing.T) {
	d := tiny(t)
	results, err := measure(d, config{models: []string{"gcn", "gat"}, seeds: 2, seed: 1, epochs: 5}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2*len(precisions) {
		t.Fatalf("%d rows, want %d", len(results), 2*len(precisions))
	}
	for i, r := range results {
		p := precisions[i%len(precisions)]
		if r.Precision != string(p) || r.Model != []string{"gcn", "gat"}[i/len(precisions)] {
			t.Fatalf("row %d is %s %s", i, r.Model, r.Precision)
		}
		if r.TestAcc < 0 || r.TestAcc > 1 || r.InferMs <= 0 || r.Bytes <= 0 {
			t.Errorf("row %+v out of range", r)
		}
		if p == modelfile.FP32 && (r.AccDelta != 0 || r.SizeRatio != 1) {
			t.Errorf("fp32 row %+v: want Δ 0 and ratio 1", r)
		}
		if p != modelfile.FP32 && r.SizeRatio >= results[i-1].SizeRatio {
			t.Errorf("%s %s: size ratio %.3f, not below the previous precision's %.3f", r.Model, p, r.SizeRatio, results[i-1].SizeRatio)
		}
	}
}

func TestMeasureLoad(t *testing.T) {
	d := tiny(t)
	tr, err := train(d, "gcn", 3, 5)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gcn.gnn")
	_, e, err := roundTrip(d, tr, modelfile.FP32, path)
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	results, err := measure(d, config{seeds: 1, load: path}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(precisions) || results[0].Model != "gcn" {
		t.Fatalf("rows %+v, want one per precision for the loaded gcn", results)
	}
	if results[0].TestAcc != tr.acc {
		t.Errorf("loaded fp32 model scores %v, trained %v", results[0].TestAcc, tr.acc)
	}

	d.classes++
	if _, err := measure(d, config{seeds: 1, load: path}, io.Discard); err == nil {
		t.Error("a model for 3 classes on a 4-class task: no error")
	}
}
