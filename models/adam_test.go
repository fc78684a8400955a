package models

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestAdamMatchesGorgonia checks that Adam computes bit for bit what gorgonia.AdamSolver
// computes, with and without weight decay, in float32 and float64.
func TestAdamMatchesGorgonia(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, wd := range []float64{0, 5e-4} {
			// loss = sum(w * c): the gradient of w is c, which changes every step.
			type model struct {
				w, c *G.Node
				m    G.VM
			}
			mk := func() model {
				g := G.NewGraph()
				w := G.NewMatrix(g, dt, G.WithShape(2, 3), G.WithName("w"), G.WithInit(G.RangedFrom(1)))
				c := G.NewMatrix(g, dt, G.WithShape(2, 3), G.WithName("c"), G.WithInit(G.Zeroes()))
				loss := G.Must(G.Sum(G.Must(G.HadamardProd(w, c))))
				if _, err := G.Grad(loss, w); err != nil {
					t.Fatal(err)
				}
				return model{w, c, G.NewTapeMachine(g)}
			}
			ours, theirs := mk(), mk()
			defer ours.m.Close()
			defer theirs.m.Close()
			run := func(m model, step int) {
				gr := tensor.New(tensor.WithShape(2, 3), tensor.Of(dt))
				for k := 0; k < gr.Len(); k++ {
					v := (float64((k*7+step*3)%11) - 5.5) * 0.1
					if dt == tensor.Float32 {
						gr.Float32s()[k] = float32(v)
					} else {
						gr.Float64s()[k] = v
					}
				}
				if err := G.Let(m.c, gr); err != nil {
					t.Fatal(err)
				}
				m.m.Reset()
				if err := m.m.RunAll(); err != nil {
					t.Fatal(err)
				}
			}
			a := NewAdam(0.01, wd)
			var s G.Solver = G.NewAdamSolver(G.WithLearnRate(0.01))
			if wd != 0 {
				s = G.NewAdamSolver(G.WithLearnRate(0.01), G.WithL2Reg(wd))
			}
			for step := 0; step < 5; step++ {
				run(ours, step)
				run(theirs, step)
				if err := a.Step(G.Nodes{ours.w}); err != nil {
					t.Fatal(err)
				}
				if err := s.Step(G.NodesToValueGrads(G.Nodes{theirs.w})); err != nil {
					t.Fatal(err)
				}
				x, y := ours.w.Value().(*tensor.Dense), theirs.w.Value().(*tensor.Dense)
				for k := 0; k < x.Len(); k++ {
					if x.Get(k) != y.Get(k) {
						t.Fatalf("%v decay %v step %d element %d: %v, gorgonia %v", dt, wd, step, k, x.Get(k), y.Get(k))
					}
				}
			}
		}
	}
}
