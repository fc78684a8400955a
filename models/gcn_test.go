package models

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
)

// communities returns a seeded graph of k classes where a node's neighbours are mostly of its
// own class, with noisy one-hot features, and a split of 10 training nodes per class.
func communities(n, k int, seed uint64) (a *graph.CSR, feats [][]float32, labels, train, val, test []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	labels = make([]int, n)
	for i := range labels {
		labels[i] = i % k
	}
	var src, dst []int
	for i := 0; i < n; i++ {
		for d := 0; d < 4; d++ {
			j := rng.IntN(n)
			if rng.Float64() < 0.8 { // same class
				j = (j/k)*k + labels[i]
				if j >= n {
					j -= k
				}
			}
			if j != i {
				src, dst = append(src, i, j), append(dst, j, i)
			}
		}
	}
	g, err := graph.FromEdges(n, src, dst)
	if err != nil {
		panic(err)
	}
	feats = make([][]float32, n)
	for i := range feats {
		feats[i] = make([]float32, 2*k)
		for j := range feats[i] {
			feats[i][j] = float32(rng.NormFloat64())
		}
		feats[i][labels[i]] += 0.7
	}
	for i := 0; i < n; i++ {
		switch {
		case i < 10*k:
			train = append(train, i)
		case i < 10*k+n/5:
			val = append(val, i)
		default:
			test = append(test, i)
		}
	}
	return g.Coalesce(), feats, labels, train, val, test
}

func denseFeatures(c *nn.Context, feats [][]float32) nn.Dense {
	n, f := len(feats), len(feats[0])
	flat := make([]float32, 0, n*f)
	for _, r := range feats {
		flat = append(flat, r...)
	}
	x := tensor.New(tensor.WithShape(n, f), tensor.WithBacking(flat))
	return nn.Dense{X: c.Constant("x", x)}
}

func trainCommunities(t testing.TB, seed uint64, epochs int) *History {
	a, feats, labels, train, val, test := communities(600, 3, 11)
	c, err := nn.NewContext(tensor.Float32, seed)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewGCN(c, len(feats[0]), 16, 3, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	logits, err := m.Forward(c, a, denseFeatures(c, feats))
	if err != nil {
		t.Fatal(err)
	}
	h, err := Train(c, Task{Logits: logits, Params: m.Learnables(), Decayed: m.Decayed(), Labels: labels, Train: train, Val: val, Test: test},
		TrainConfig{Epochs: epochs, LearningRate: 0.01, WeightDecay: 5e-4, Window: 10})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestGCNLearnsCommunities(t *testing.T) {
	h := trainCommunities(t, 1, 200)
	if h.TestAcc < 0.85 {
		t.Errorf("test accuracy %.3f after %d epochs, want >= 0.85 (feature-only accuracy is far lower)", h.TestAcc, h.Epochs)
	}
	if h.TrainLoss[len(h.TrainLoss)-1] >= h.TrainLoss[0] {
		t.Errorf("training loss did not fall: %v -> %v", h.TrainLoss[0], h.TrainLoss[len(h.TrainLoss)-1])
	}
}

func TestTrainingIsDeterministic(t *testing.T) {
	a := trainCommunities(t, 7, 30)
	b := trainCommunities(t, 7, 30)
	c := trainCommunities(t, 8, 30)
	if !reflect.DeepEqual(a.TrainLoss, b.TrainLoss) || !reflect.DeepEqual(a.ValLoss, b.ValLoss) || a.TestAcc != b.TestAcc {
		t.Error("two runs with seed 7 differ")
	}
	if reflect.DeepEqual(a.TrainLoss, c.TrainLoss) {
		t.Error("seeds 7 and 8 gave the same run")
	}
}

// Train a two-layer GCN on a generated graph of three communities.
func Example() {
	a, feats, labels, train, val, test := communities(600, 3, 11)
	c, _ := nn.NewContext(tensor.Float32, 1)
	model, _ := NewGCN(c, len(feats[0]), 16, 3, 0.5)
	logits, _ := model.Forward(c, a, denseFeatures(c, feats))
	h, err := Train(c, Task{
		Logits: logits, Params: model.Learnables(), Decayed: model.Decayed(),
		Labels: labels, Train: train, Val: val, Test: test,
	}, TrainConfig{Epochs: 200, LearningRate: 0.01, WeightDecay: 5e-4, Window: 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("test accuracy above 0.85:", h.TestAcc > 0.85)
	// Output: test accuracy above 0.85: true
}

func TestSAGESampledIsInductive(t *testing.T) {
	// Train on the subgraph induced by the first half of the nodes, then classify the other half
	// inside the full graph: nodes the model never saw, edges it never sampled.
	a, feats, labels, _, _, _ := communities(600, 3, 11)
	seen := make([]int, 300)
	for i := range seen {
		seen[i] = i
	}
	sub, err := a.Subgraph(seen)
	if err != nil {
		t.Fatal(err)
	}
	var train, val []int
	for i := 0; i < 300; i++ {
		if i < 60 {
			train = append(train, i)
		} else {
			val = append(val, i)
		}
	}
	base, _ := nn.NewContext(tensor.Float32, 3)
	build := func(c *nn.Context, blocks []graph.Block) (*G.Node, error) {
		m, err := NewSAGE(c, len(feats[0]), 16, 3, nn.MeanAggr, 0.2)
		if err != nil {
			return nil, err
		}
		return m.Forward(c, blocks, gatherDense(c, feats, blocks[0].SrcIDs))
	}
	h, err := TrainSampled(base, SampledTask{Graph: sub, Build: build, Labels: labels[:300], Train: train, Val: val, Test: val},
		SampledConfig{TrainConfig: TrainConfig{Epochs: 100, LearningRate: 0.01, WeightDecay: 5e-4}, Fanouts: []int{10, 5}, BatchSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	// Inference on the full graph with the trained weights.
	c := base.Next()
	c.SetTraining(false)
	logits, err := build(c, a.FullBlocks(2))
	if err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(c.Graph)
	defer m.Close()
	c.Refresh()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	rows, _ := nn.Rows(logits.Value())
	var unseen []int
	for i := 300; i < 600; i++ {
		unseen = append(unseen, i)
	}
	// Chance is 1/3; a model that ignored the unseen nodes' neighbourhoods would sit near the
	// features-only accuracy.
	if acc := nn.Accuracy(rows, labels, unseen); acc < 0.75 {
		t.Errorf("accuracy on unseen nodes %.3f, want >= 0.75 (validation on the training graph: %.3f)", acc, h.ValAccFinal)
	}
}

func gatherDense(c *nn.Context, feats [][]float32, ids []int32) nn.Dense {
	rows := make([][]float32, len(ids))
	for k, id := range ids {
		rows[k] = feats[id]
	}
	return denseFeatures(c, rows)
}
