package models

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
)

// Embed nodes that did not exist during training with a trained GraphSAGE model: train on the
// subgraph of the first 300 nodes, then run the same weights over the full 600-node graph.
func ExampleSAGE_unseenNodes() {
	a, feats, labels, _, _, _ := communities(600, 3, 11)
	seen := make([]int, 300)
	for i := range seen {
		seen[i] = i
	}
	sub, _ := a.Subgraph(seen)
	build := func(c *nn.Context, blocks []graph.Block) (*G.Node, error) {
		m, err := NewSAGE(c, len(feats[0]), 16, 3, nn.MeanAggr, 0.2)
		if err != nil {
			return nil, err
		}
		return m.Forward(c, blocks, gatherDense(c, feats, blocks[0].SrcIDs))
	}
	base, _ := nn.NewContext(tensor.Float32, 3)
	_, err := TrainSampled(base, SampledTask{Graph: sub, Build: build, Labels: labels[:300], Train: seen[:60], Val: seen[60:], Test: seen[60:]},
		SampledConfig{TrainConfig: TrainConfig{Epochs: 100, LearningRate: 0.01, WeightDecay: 5e-4}, Fanouts: []int{10, 5}, BatchSize: 16})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The trained weights, a new graph: node 450 was never seen.
	c := base.Next()
	c.SetTraining(false)
	logits, _ := build(c, a.FullBlocks(2))
	m := G.NewTapeMachine(c.Graph)
	defer m.Close()
	c.Refresh()
	if err := m.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	rows, _ := nn.Rows(logits.Value())
	unseen := make([]int, 300)
	for k := range unseen {
		unseen[k] = 300 + k
	}
	fmt.Println("scores for unseen node 450:", len(rows[450]), "classes")
	fmt.Println("accuracy on the 300 unseen nodes above 0.75:", nn.Accuracy(rows, labels, unseen) > 0.75)
	// Output:
	// scores for unseen node 450: 3 classes
	// accuracy on the 300 unseen nodes above 0.75: true
}
