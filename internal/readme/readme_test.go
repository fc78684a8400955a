// Package readme holds the code blocks of the repository's README.md as Examples, so `go test`
// compiles and runs them, and a test that fails when a block of the README is not found, line
// for line, in one of these Examples.
package readme

import (
	"fmt"
	"math/rand/v2"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/models"
	"github.com/gnnlab/gognn/nn"
	"github.com/gnnlab/gognn/search"
)

// randomFeatures returns n x d features uniform in [-1, 1).
func randomFeatures(n, d int) *tensor.Dense {
	rng := rand.New(rand.NewPCG(1, 2))
	v := make([]float32, n*d)
	for i := range v {
		v[i] = rng.Float32()*2 - 1
	}
	return tensor.New(tensor.WithShape(n, d), tensor.WithBacking(v))
}

func Example_gcn() {
	a, _ := graph.Random(1000, 16, 1)        // 1000 nodes, 16 in-neighbours each (or an HNSW layer)
	c, _ := nn.NewContext(tensor.Float32, 1) // a Gorgonia graph and the parameters, seeded
	x := c.Constant("x", randomFeatures(1000, 128))

	gcn, _ := nn.NewGCNConv(c, "gcn", 128, 64)
	h, _ := gcn.Forward(a, x) // D^-1/2 (A+I) D^-1/2 X W + b
	loss := gorgonia.Must(gorgonia.Sum(h))
	gorgonia.Grad(loss, gcn.Learnables()...) // backward through the sparse aggregation op

	m := gorgonia.NewTapeMachine(c.Graph)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		panic(err)
	}
	dW, _ := gcn.Lin.W.Grad()
	fmt.Println("output", h.Shape(), "weight gradient", dW.Shape())
	// Output:
	// output (1000, 64) weight gradient (128, 64)
}

func Example_sequential() {
	a, _ := graph.Random(1000, 16, 1)
	c, _ := nn.NewContext(tensor.Float32, 1)
	x := c.Constant("x", randomFeatures(1000, 128))

	drop, _ := nn.NewDropout(c, 0.5)
	conv1, _ := nn.NewGCNConv(c, "conv1", 128, 16)
	conv2, _ := nn.NewGCNConv(c, "conv2", 16, 7)
	model := nn.Sequential{drop, conv1, nn.Func(nn.ReLU), drop, conv2}
	logits, _ := model.Forward(a, x) // (1000, 7)

	m := gorgonia.NewTapeMachine(c.Graph)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		panic(err)
	}
	fmt.Println("logits", logits.Shape(), "parameters", len(model.Learnables()))
	// Output:
	// logits (1000, 7) parameters 4
}

func Example_gat() {
	a, _ := graph.Random(1000, 16, 1)
	c, _ := nn.NewContext(tensor.Float32, 1)
	x := c.Constant("x", randomFeatures(1000, 128))

	gat, _ := nn.NewGATConv(c, "gat", nn.GATConfig{In: 128, Out: 8, Heads: 8, Concat: true, Dropout: 0.1})
	h, _ := gat.Forward(a, x) // (1000, 64): 8 heads of 8, concatenated
	var alpha gorgonia.Value
	gorgonia.Read(gat.Attention(), &alpha) // attention per edge and head, after a run

	c.SetTraining(false) // no dropout
	m := gorgonia.NewTapeMachine(c.Graph)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		panic(err)
	}
	src, weights, _ := gat.NodeAttention(alpha, 0) // whom node 0 attends to, per head
	fmt.Println("output", h.Shape(), "node 0 attends to", len(src), "nodes with", len(weights[0]), "heads")
	// Output:
	// output (1000, 64) node 0 attends to 17 nodes with 8 heads
}

func Example_sage() {
	a, _ := graph.Random(1000, 16, 1)
	base, _ := nn.NewContext(tensor.Float32, 1)
	feats := randomFeatures(1000, 128)

	// One mini-batch: 32 target nodes, 10 then 5 sampled neighbours per hop, relabelled into
	// per-layer bipartite blocks (input layer first).
	targets := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
		16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31}
	blocks, _ := a.Sample(targets, []int{10, 5}, base.Rand())

	c := base.Next() // a fresh graph over the same parameters, per mini-batch
	sage, _ := models.NewSAGE(c, 128, 64, 7, nn.MeanAggr, 0.5)
	rows := make([]int, len(blocks[0].SrcIDs)) // the features of the batch's input nodes
	for i, id := range blocks[0].SrcIDs {
		rows[i] = int(id)
	}
	x := c.Constant("x", gatherRows(feats, rows))
	logits, _ := sage.Forward(c, blocks, nn.Dense{X: x})

	m := gorgonia.NewTapeMachine(c.Graph)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		panic(err)
	}
	fmt.Println("logits of the targets", logits.Shape())
	// Output:
	// logits of the targets (32, 7)
}

// gatherRows returns the given rows of a float32 matrix.
func gatherRows(t *tensor.Dense, rows []int) *tensor.Dense {
	d := t.Shape()[1]
	src, out := t.Float32s(), make([]float32, len(rows)*d)
	for k, r := range rows {
		copy(out[k*d:], src[r*d:(r+1)*d])
	}
	return tensor.New(tensor.WithShape(len(rows), d), tensor.WithBacking(out))
}

func Example_search() {
	vectors, topic := topicCorpus(2000, 64) // noisy views of 8 hidden topics

	ix, _ := hnsw.New(hnsw.Config{Dim: 64, Metric: hnsw.Cosine, M: 16, EfConstruction: 100, Seed: 1})
	for _, v := range vectors {
		ix.Add(v)
	}
	s, _ := search.New(ix, search.Config{Seed: 1}) // HNSW candidates re-ranked by a GraphSAGE encoder

	for i := 0; i < 200; i++ { // users search and say which of the top 10 were relevant
		q := search.Query{Vector: vectors[i], Exclude: []int{i}}
		res, _ := s.Search(q, 10)
		shown, relevant := make([]int, len(res)), make([]bool, len(res))
		for k, r := range res {
			shown[k], relevant[k] = r.ID, topic[r.ID] == topic[i]
		}
		s.Feedback(q, shown, relevant)
		if (i+1)%50 == 0 {
			s.Train() // learn from the replay buffer; corpus embeddings refreshed
		}
	}
	fmt.Println("trained steps:", s.Stats().Steps)
	// Output:
	// trained steps: 80
}

// topicCorpus returns n vectors of dimension d, each a hidden topic's centre plus larger noise,
// and the topic of each.
func topicCorpus(n, d int) ([][]float32, []int) {
	rng := rand.New(rand.NewPCG(3, 4))
	vecs, topic := make([][]float32, n), make([]int, n)
	for i := range vecs {
		topic[i] = i % 8
		v := make([]float32, d)
		for j := range v {
			v[j] = float32(rng.NormFloat64())
		}
		v[topic[i]] += 3
		vecs[i] = v
	}
	return vecs, topic
}
