package ops

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// lstmNaive runs the LSTM over each packed sequence on its own, step by step, in float64: the
// independent reference for LSTMSequence.
func lstmNaive(H, n int, steps []int, xw, wh, b []float64) []float64 {
	out := make([]float64, n*H)
	for k := 0; k < steps[0]; k++ {
		h, c := make([]float64, H), make([]float64, H)
		off := 0
		for _, live := range steps {
			if k < live {
				row := xw[(off+k)*4*H : (off+k+1)*4*H]
				z := make([]float64, 4*H)
				for j := range z {
					z[j] = row[j] + b[j]
					for q := 0; q < H; q++ {
						z[j] += h[q] * wh[q*4*H+j]
					}
				}
				sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
				for j := 0; j < H; j++ {
					c[j] = sig(z[H+j])*c[j] + sig(z[j])*math.Tanh(z[2*H+j])
					h[j] = sig(z[3*H+j]) * math.Tanh(c[j])
				}
			}
			off += live
		}
		copy(out[k*H:], h)
	}
	return out
}

func TestLSTMSequenceMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const H, n = 5, 7
	steps := []int{5, 4, 4, 2, 1} // sequences of lengths 5, 4, 3, 3, 2 and two empty ones
	rows := 16
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		xw, wh, b := randDense(rng, dt, rows, 4*H), randDense(rng, dt, H, 4*H), randDense(rng, dt, 4*H)
		g := G.NewGraph()
		nx := G.NewTensor(g, dt, 2, G.WithShape(rows, 4*H), G.WithValue(xw))
		nw := G.NewTensor(g, dt, 2, G.WithShape(H, 4*H), G.WithValue(wh))
		nb := G.NewTensor(g, dt, 1, G.WithShape(4*H), G.WithValue(b))
		out, err := LSTMSequence(nx, nw, nb, n, steps)
		if err != nil {
			t.Fatal(err)
		}
		m := G.NewTapeMachine(g)
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		m.Close()
		f64 := func(d *tensor.Dense) []float64 {
			v := make([]float64, d.Len())
			for i := range v {
				v[i] = at(d, i)
			}
			return v
		}
		want := lstmNaive(H, n, steps, f64(xw), f64(wh), f64(b))
		got := out.Value().(*tensor.Dense)
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 1e-5
		}
		for i, w := range want {
			if math.Abs(at(got, i)-w) > tol {
				t.Fatalf("%v: element %d = %g, reference %g", dt, i, at(got, i), w)
			}
		}
		for i := steps[0] * H; i < n*H; i++ {
			if at(got, i) != 0 {
				t.Fatalf("%v: empty sequence's state element %d = %g, want 0", dt, i, at(got, i))
			}
		}
	}
}

func TestLSTMSequenceGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const H, n = 3, 5
	steps := []int{4, 3, 3, 1}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		checkGrad(t, func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			return LSTMSequence(in[0], in[1], in[2], n, steps)
		}, randDense(rng, dt, 11, 4*H), randDense(rng, dt, H, 4*H), randDense(rng, dt, 4*H))
	}
}

func TestLSTMSequenceRejectsBadShapes(t *testing.T) {
	g := G.NewGraph()
	mk := func(shape ...int) *G.Node {
		return G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...))
	}
	for _, tc := range []struct {
		xw, wh, b *G.Node
		n         int
		steps     []int
		want      string
	}{
		{mk(6, 8), mk(2, 8), mk(8), 3, []int{3, 2, 1}, ""},
		{mk(6, 8), mk(2, 6), mk(8), 3, []int{3, 2, 1}, "recurrent weight"},
		{mk(6, 8), mk(2, 8), mk(6), 3, []int{3, 2, 1}, "bias"},
		{mk(6, 8), mk(2, 8), mk(8), 3, []int{2, 3, 1}, "non-increasing"},
		{mk(6, 8), mk(2, 8), mk(8), 2, []int{3, 2, 1}, "at most n"},
		{mk(5, 8), mk(2, 8), mk(8), 3, []int{3, 2, 1}, "input projections"},
	} {
		_, err := LSTMSequence(tc.xw, tc.wh, tc.b, tc.n, tc.steps)
		if tc.want == "" {
			if err != nil {
				t.Errorf("steps %v: %v", tc.steps, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("steps %v: error %v, want one about %q", tc.steps, err, tc.want)
		}
	}
}

var _ = register(func() *opContract {
	const H, n = 3, 6
	steps := []int{4, 3, 3, 1} // lengths 4, 3, 3, 1 and two empty sequences
	return &opContract{
		ops: []string{"LSTMSequence"},
		inputs: func(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense {
			return []*tensor.Dense{randDense(rng, dt, 11, 4*H), randDense(rng, dt, H, 4*H), randDense(rng, dt, 4*H)}
		},
		build: func(x, _ []*G.Node) (*G.Node, error) { return LSTMSequence(x[0], x[1], x[2], n, steps) },
		ref:   func(x [][]float64) []float64 { return lstmNaive(H, n, steps, x[0], x[1], x[2]) },
		bad: []badInput{
			{"steps", func(g *G.ExprGraph) (*G.Node, error) {
				return LSTMSequence(matNode(g, tensor.Float32, 6, 8, "x"), matNode(g, tensor.Float32, 2, 8, "w"), vecNode(g, tensor.Float32, 8, "b"), 3, []int{2, 3, 1})
			}, "non-increasing"},
		},
	}
}())

func TestLSTMSequence(t *testing.T) { runContract(t, "LSTMSequence") }
