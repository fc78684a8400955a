package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"

	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/datasets"
	"github.com/gnnlab/gognn/experiments/internal/expenv"
	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/models"
	"github.com/gnnlab/gognn/nn"
)

// ModelResult is one model's row.
type ModelResult struct {
	Model      string  `json:"model"`
	TestAcc    float64 `json:"test_acc"`
	Epochs     int     `json:"epochs"`
	MsPerEpoch float64 `json:"ms_per_epoch"`
}

// task is a node classification problem.
type task struct {
	a                *graph.CSR
	labels           []int
	classes          int
	train, val, test []int
	features         func(c *nn.Context) (nn.Features, error)
	in               int
}

// communities returns a graph of n nodes in classes communities: each node links to intra
// random nodes of its own community and inter random nodes of any, undirected; its features
// are its community's centre buried in noise, so that features alone classify poorly and the
// neighbourhood has to help. 20 training nodes per class, 500 validation and 1000 test nodes.
func communities(n, classes, intra, inter, f int, seed uint64) (*task, error) {
	rng := rand.New(rand.NewPCG(seed, 0xc0de))
	labels := make([]int, n)
	members := make([][]int, classes)
	for i := range labels {
		labels[i] = rng.IntN(classes)
		members[labels[i]] = append(members[labels[i]], i)
	}
	var src, dst []int
	for i := range labels {
		own := members[labels[i]]
		for e := 0; e < intra; e++ {
			if j := own[rng.IntN(len(own))]; j != i {
				src, dst = append(src, j), append(dst, i)
			}
		}
		for e := 0; e < inter; e++ {
			if j := rng.IntN(n); j != i {
				src, dst = append(src, j), append(dst, i)
			}
		}
	}
	directed, err := graph.FromEdges(n, src, dst)
	if err != nil {
		return nil, err
	}
	a, err := directed.Symmetrize()
	if err != nil {
		return nil, err
	}
	centres := make([][]float32, classes)
	for c := range centres {
		centres[c] = make([]float32, f)
		for j := range centres[c] {
			centres[c][j] = float32(rng.NormFloat64())
		}
	}
	// Rows are scaled to unit length, as bag-of-words features are row-normalised, so the
	// papers' settings apply.
	x := make([]float32, n*f)
	for i, y := range labels {
		row := x[i*f : (i+1)*f]
		norm := 0.0
		for j := range row {
			row[j] = centres[y][j] + float32(4*rng.NormFloat64())
			norm += float64(row[j]) * float64(row[j])
		}
		for j := range row {
			row[j] /= float32(math.Sqrt(norm))
		}
	}
	t := &task{a: a, labels: labels, classes: classes, in: f}
	perClass := make([]int, classes)
	for _, i := range rng.Perm(n) {
		switch {
		case perClass[labels[i]] < 20:
			perClass[labels[i]]++
			t.train = append(t.train, i)
		case len(t.val) < 500:
			t.val = append(t.val, i)
		case len(t.test) < 1000:
			t.test = append(t.test, i)
		}
	}
	t.features = func(c *nn.Context) (nn.Features, error) {
		return nn.Dense{X: c.Constant("x", tensor.New(tensor.WithShape(n, f), tensor.WithBacking(x)))}, nil
	}
	return t, nil
}

// setting is one model's architecture and training.
type setting struct {
	name string
	arch models.Architecture
	tc   models.TrainConfig
}

// settings returns GCN and GAT with the papers' settings and GraphSAGE (mean aggregator,
// full-batch) for a task.
func settings(in, classes int) ([]setting, error) {
	var out []setting
	for _, name := range []string{"gcn", "gat"} {
		arch, tc, err := models.Published(name, in, classes)
		if err != nil {
			return nil, err
		}
		out = append(out, setting{name: name, arch: arch, tc: tc})
	}
	out = append(out, setting{name: "sage",
		arch: models.Architecture{Model: "sage", In: in, Hidden: 64, Classes: classes, Aggr: "mean", Dropout: 0.5},
		tc:   models.TrainConfig{Epochs: 200, LearningRate: 0.01, WeightDecay: 5e-4, Patience: 50}})
	return out, nil
}

// fit trains every setting on t with one seed and prints the table.
func fit(t *task, seed uint64) ([]ModelResult, error) {
	ss, err := settings(t.in, t.classes)
	if err != nil {
		return nil, err
	}
	var out []ModelResult
	for _, s := range ss {
		c, err := nn.NewContext(tensor.Float32, seed)
		if err != nil {
			return nil, err
		}
		x, err := t.features(c)
		if err != nil {
			return nil, err
		}
		m, err := models.Build(c, s.arch)
		if err != nil {
			return nil, err
		}
		logits, err := m.Forward(c, t.a, x)
		if err != nil {
			return nil, err
		}
		h, err := models.Train(c, models.Task{Logits: logits, Params: m.Learnables(), Decayed: m.Decayed(),
			Labels: t.labels, Train: t.train, Val: t.val, Test: t.test}, s.tc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		out = append(out, ModelResult{Model: s.name, TestAcc: h.TestAcc, Epochs: h.Epochs, MsPerEpoch: h.MsPerEpoch})
	}
	tw := expenv.NewTable(os.Stdout)
	tw.Header("model", "test accuracy", "epochs", "ms/epoch")
	for _, r := range out {
		tw.Append(r.Model, fmt.Sprintf("%.1f", 100*r.TestAcc), fmt.Sprint(r.Epochs), fmt.Sprintf("%.1f", r.MsPerEpoch))
	}
	tw.Render()
	return out, nil
}

func syntheticModels(seed uint64) ([]ModelResult, error) {
	t, err := communities(3000, 6, 3, 3, 32, seed)
	if err != nil {
		return nil, err
	}
	fmt.Printf("graph: %d nodes in %d communities, %d directed edges (about half within a community); features: the community's centre plus noise 4x its scale, rows of unit length\n",
		t.a.NumDst, t.classes, t.a.NumEdges())
	fmt.Printf("train/val/test %d/%d/%d nodes; GCN and GAT with their papers' settings, GraphSAGE-mean full-batch; seed %d\n",
		len(t.train), len(t.val), len(t.test), seed)
	return fit(t, seed)
}

func coraModels(fl expenv.Flags) ([]ModelResult, error) {
	dir := datasets.DataDir(fl.Data)
	ds, err := datasets.LoadPlanetoid("cora", datasets.Dir(dir), datasets.NoDownload())
	if err != nil {
		fmt.Printf("skipped: %v\n", err)
		return nil, nil
	}
	feats := ds.Features.RowNormalized()
	t := &task{a: ds.Graph, labels: ds.Labels, classes: ds.NumClasses, train: ds.Train, val: ds.Val, test: ds.Test, in: feats.Cols,
		features: func(c *nn.Context) (nn.Features, error) {
			return nn.NewSparseFeatures(c, feats.Rows, feats.Cols, feats.RowPtr, feats.ColIdx, feats.Values)
		}}
	fmt.Printf("cora (%s): %d nodes, %d edges, %d features, %d classes; public split; seed %d (the papers: GCN 81.5, GAT 83.0)\n",
		dir, feats.Rows, ds.Graph.NumEdges(), feats.Cols, ds.NumClasses, fl.Seed)
	return fit(t, fl.Seed)
}
