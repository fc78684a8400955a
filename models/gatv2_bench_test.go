package models

import (
	"os"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/datasets"
	"github.com/gnnlab/gognn/nn"
)

// BenchmarkCoraEpoch times a training epoch (forward, backward, Adam step and an evaluation
// pass, as History.MsPerEpoch) of the fused GAT and of GATv2 on the general message-passing
// path, with the paper's Cora setting (8 heads x 8, dropout 0.6), in one run. It needs the
// Planetoid files: GNN_DATA=/work/shared/datasets go test ./models -run - -bench CoraEpoch
func BenchmarkCoraEpoch(b *testing.B) {
	if os.Getenv("GNN_DATA") == "" {
		b.Skip("set GNN_DATA to the data directory (with planetoid/ind.cora.*)")
	}
	ds, err := datasets.LoadPlanetoid("cora", datasets.Dir(datasets.DataDir("")))
	if err != nil {
		b.Fatal(err)
	}
	f := ds.Features
	for _, name := range []string{"gat", "gatv2"} {
		b.Run(name, func(b *testing.B) {
			c, _ := nn.NewContext(tensor.Float32, 1)
			arch := Architecture{Model: "gat", In: f.Cols, Hidden: 8, Heads: 8, Classes: ds.NumClasses, OutHeads: 1, Dropout: 0.6}
			var m Model
			if name == "gat" {
				m, err = NewGAT(c, arch)
			} else {
				m, err = NewGATv2(c, arch)
			}
			if err != nil {
				b.Fatal(err)
			}
			x, err := nn.NewSparseFeatures(c, f.Rows, f.Cols, f.RowPtr, f.ColIdx, f.Values)
			if err != nil {
				b.Fatal(err)
			}
			logits, err := m.Forward(c, ds.Graph, x)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			h, err := Train(c, Task{Logits: logits, Params: m.Learnables(), Decayed: m.Decayed(),
				Labels: ds.Labels, Train: ds.Train, Val: ds.Val, Test: ds.Test},
				TrainConfig{Epochs: b.N, LearningRate: 0.005, WeightDecay: 5e-4})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(h.MsPerEpoch, "ms/epoch")
		})
	}
}
