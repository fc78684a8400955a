package nn

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// BenchmarkGATv2Scores times the fused GATv2 score op forward and backward on a Cora-sized
// graph (2708 nodes, 5 in-neighbours each, 8 heads of 8).
func BenchmarkGATv2Scores(b *testing.B) {
	a, err := graph.Random(2708, 5, 1)
	if err != nil {
		b.Fatal(err)
	}
	c, _ := NewContext(tensor.Float32, 1)
	xl, _ := c.Param("xl", tensor.Shape{2708, 64}, Normal(0, 1))
	xr, _ := c.Param("xr", tensor.Shape{2708, 64}, Normal(0, 1))
	att, _ := c.Param("att", tensor.Shape{64, 1}, Normal(0, 1))
	s, err := gatv2Scores(a, xl, xr, att, 8, 0.2)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := G.Grad(G.Must(G.Sum(s)), xl, xr, att); err != nil {
		b.Fatal(err)
	}
	m := G.NewTapeMachine(c.Graph)
	defer m.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Reset()
		if err := m.RunAll(); err != nil {
			b.Fatal(err)
		}
	}
}
