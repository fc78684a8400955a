package models

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
)

func TestRandomLinkSplit(t *testing.T) {
	a, _, _, _, _, _ := communities(300, 3, 4)
	s, err := RandomLinkSplit(a, 0.05, 0.1, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	m := a.NumEdges() / 2
	if len(s.ValPos) != int(0.05*float64(m)) || len(s.TestPos) != int(0.1*float64(m)) || len(s.TrainPos)+len(s.ValPos)+len(s.TestPos) != m {
		t.Fatalf("split %d/%d/%d of %d edges", len(s.TrainPos), len(s.ValPos), len(s.TestPos), m)
	}
	if len(s.ValNeg) != len(s.ValPos) || len(s.TestNeg) != len(s.TestPos) {
		t.Fatalf("%d/%d negatives for %d/%d positives", len(s.ValNeg), len(s.TestNeg), len(s.ValPos), len(s.TestPos))
	}
	has := func(g *graph.CSR, e Edge) bool {
		src, _ := g.Row(e.V)
		for _, u := range src {
			if int(u) == e.U {
				return true
			}
		}
		return false
	}
	// No validation or test edge in the message-passing graph; negatives are non-edges.
	for _, set := range [][]Edge{s.ValPos, s.TestPos} {
		for _, e := range set {
			if has(s.Graph, e) || has(s.Graph, Edge{e.V, e.U}) {
				t.Fatalf("held-out edge %v is in the message-passing graph", e)
			}
		}
	}
	seen := map[Edge]bool{}
	for _, set := range [][]Edge{s.ValNeg, s.TestNeg, s.SampleNegatives(500, rand.New(rand.NewPCG(3, 4)))} {
		for _, e := range set {
			if e.U >= e.V {
				t.Fatalf("negative %v not ordered or a self-loop", e)
			}
			if has(s.Graph, e) {
				t.Fatalf("negative %v is a training edge", e)
			}
		}
	}
	for _, e := range append(append([]Edge(nil), s.ValNeg...), s.TestNeg...) {
		if has(a, e) || seen[e] {
			t.Fatalf("validation/test negative %v is an edge or repeated", e)
		}
		seen[e] = true
	}
	if s.Graph.NumEdges() != 2*len(s.TrainPos) {
		t.Errorf("message-passing graph has %d edges for %d training edges", s.Graph.NumEdges(), len(s.TrainPos))
	}
}

// TestTrainLinks trains GAE, VGAE and the GAE encoder with an MLP decoder on a graph of
// communities (edges mostly inside a class, noisy features): every one must rank held-out edges
// well above chance (0.5; with 80% of the edges inside one of 3 classes and the rest random,
// class membership alone ranks at about 0.73), and the expression graph must not grow while training (built once,
// index values replaced per epoch).
func TestTrainLinks(t *testing.T) {
	a, feats, _, _, _, _ := communities(300, 3, 7)
	floor := map[string]float64{"gae": 0.66, "vgae": 0.66, "gae-mlp": 0.62, "gae-batches": 0.66}
	for _, model := range []string{"gae", "vgae", "gae-mlp", "gae-batches"} {
		c, _ := nn.NewContext(tensor.Float32, 2)
		s, err := RandomLinkSplit(a, 0.05, 0.1, rand.New(rand.NewPCG(5, 6)))
		if err != nil {
			t.Fatal(err)
		}
		x := denseFeatures(c, feats)
		task := LinkTask{Split: s}
		if model == "gae-batches" {
			task.BatchSize = 100 // edge mini-batches: several steps per epoch
		}
		m, err := NewGAE(c, len(feats[0]), 16, 8, model == "vgae")
		if err != nil {
			t.Fatal(err)
		}
		task.Params = m.Learnables()
		task.Encode = func(c *nn.Context, a *graph.CSR) (Encoding, error) { return m.Encode(c, a, x) }
		if model == "gae-mlp" {
			dec, err := NewMLPDecoder(c, 8, 16)
			if err != nil {
				t.Fatal(err)
			}
			task.Decoder, task.Params = dec, append(task.Params, dec.Learnables()...)
		}
		var sizes []int
		cfg := TrainConfig{Epochs: 150, LearningRate: 0.01, Progress: func(Progress) { sizes = append(sizes, len(c.Graph.AllNodes())) }}
		h, err := TrainLinks(c, task, cfg)
		if err != nil {
			t.Fatalf("%s: %v", model, err)
		}
		if h.Test.AUC < floor[model] || h.Test.AP < floor[model]-0.05 {
			t.Errorf("%s: test AUC %.3f AP %.3f, want >= %.2f and %.2f", model, h.Test.AUC, h.Test.AP, floor[model], floor[model]-0.05)
		}
		if h.TrainLoss[len(h.TrainLoss)-1] >= h.TrainLoss[0] {
			t.Errorf("%s: training loss did not fall: %v -> %v", model, h.TrainLoss[0], h.TrainLoss[len(h.TrainLoss)-1])
		}
		for _, n := range sizes {
			if n != sizes[0] {
				t.Fatalf("%s: the expression graph grew during training: %v nodes", model, sizes)
			}
		}
	}
}
