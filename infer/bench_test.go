package infer

import (
	"bytes"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/models"
	"github.com/gnnlab/gognn/nn"
)

// BenchmarkForward times one forward pass on Cora-sized inputs: package infer (from a loaded
// file) against the Gorgonia model, built, restored and run per call (gorgonia-cold, what the
// engine did per embed before package infer) and run again on a built graph (gorgonia).
func BenchmarkForward(b *testing.B) {
	g, x := coraSized(b)
	for _, arch := range []models.Architecture{
		{Model: "gcn", In: 1433, Hidden: 16, Classes: 7},
		{Model: "sage", Aggr: "mean", In: 1433, Hidden: 16, Classes: 7},
		{Model: "gat", In: 1433, Hidden: 8, Heads: 8, Classes: 7, OutHeads: 1},
	} {
		_, file := gorgoniaModel(b, arch, g, x, 1)
		b.Run(arch.Model+"/infer", func(b *testing.B) {
			m, err := Load(bytes.NewReader(file))
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < b.N; i++ {
				if _, err := m.Forward(g, x); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(arch.Model+"/gorgonia-cold", func(b *testing.B) {
			// What a caller holding only the file pays per call: build, restore, run.
			for i := 0; i < b.N; i++ {
				gorgoniaModel(b, arch, g, x, 1)
			}
		})
		b.Run(arch.Model+"/gorgonia", func(b *testing.B) {
			c, err := nn.NewContext(tensor.Float32, 1)
			if err != nil {
				b.Fatal(err)
			}
			c.SetTraining(false)
			m, err := models.Build(c, arch)
			if err != nil {
				b.Fatal(err)
			}
			xt := tensor.New(tensor.WithShape(g.NumDst, arch.In), tensor.WithBacking(x))
			if _, err := m.Forward(c, g, nn.Dense{X: c.Constant("x", xt)}); err != nil {
				b.Fatal(err)
			}
			vm := G.NewTapeMachine(c.Graph)
			defer vm.Close()
			c.Refresh()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := vm.RunAll(); err != nil {
					b.Fatal(err)
				}
				vm.Reset()
			}
		})
	}
}
