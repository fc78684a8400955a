package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// batchNormRef is the pure-Go reference: y = (x - mu) / sqrt(var + eps) * gain + bias per
// column, with the column statistics of x (training) or the given ones.
func batchNormRef(x, gain, bias []float64, rows int, mean, variance []float64, eps float64) []float64 {
	width := len(gain)
	if mean == nil {
		mean, variance = make([]float64, width), make([]float64, width)
		for j := 0; j < width; j++ {
			for i := 0; i < rows; i++ {
				mean[j] += x[i*width+j] / float64(rows)
			}
			for i := 0; i < rows; i++ {
				d := x[i*width+j] - mean[j]
				variance[j] += d * d / float64(rows)
			}
		}
	}
	y := make([]float64, len(x))
	for i := range y {
		j := i % width
		y[i] = (x[i]-mean[j])/math.Sqrt(variance[j]+eps)*gain[j] + bias[j]
	}
	return y
}

func batchNormInputs(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense {
	x := randDense(rng, dt, 9, 4)
	for i := 0; i < x.Len(); i++ { // columns of different centres and spreads
		set(x, i, at(x, i)*float64(1+i%4)+float64(i%4))
	}
	return []*tensor.Dense{x, randDense(rng, dt, 4), randDense(rng, dt, 4)}
}

func batchNormBad() []badInput {
	st := func() *BatchNormState { return &BatchNormState{Training: true, Eps: 1e-5} }
	return []badInput{
		{"gain width", func(g *G.ExprGraph) (*G.Node, error) {
			return BatchNorm(matNode(g, tensor.Float64, 3, 4, "x"), vecNode(g, tensor.Float64, 3, "g"), vecNode(g, tensor.Float64, 4, "b"), st())
		}, "want one value per column"},
		{"dtype", func(g *G.ExprGraph) (*G.Node, error) {
			return BatchNorm(matNode(g, tensor.Float64, 3, 4, "x"), vecNode(g, tensor.Float32, 4, "g"), vecNode(g, tensor.Float64, 4, "b"), st())
		}, "want one dtype"},
		{"nil state", func(g *G.ExprGraph) (*G.Node, error) {
			return BatchNorm(matNode(g, tensor.Float64, 3, 4, "x"), vecNode(g, tensor.Float64, 4, "g"), vecNode(g, tensor.Float64, 4, "b"), nil)
		}, "nil input or state"},
		{"no running statistics", func(g *G.ExprGraph) (*G.Node, error) {
			return BatchNorm(matNode(g, tensor.Float64, 3, 4, "x"), vecNode(g, tensor.Float64, 4, "g"), vecNode(g, tensor.Float64, 4, "b"), &BatchNormState{Eps: 1e-5})
		}, "running statistics"},
	}
}

var _ = register(&opContract{
	ops:    []string{"BatchNorm"},
	inputs: batchNormInputs,
	build: func(x, _ []*G.Node) (*G.Node, error) {
		return BatchNorm(x[0], x[1], x[2], &BatchNormState{Training: true, Eps: 1e-5})
	},
	ref: func(x [][]float64) []float64 { return batchNormRef(x[0], x[1], x[2], 9, nil, nil, 1e-5) },
	bad: batchNormBad(),
})

// TestBatchNorm runs the contract in training mode (batch statistics).
func TestBatchNorm(t *testing.T) { runContract(t, "BatchNorm") }

// TestBatchNormEval runs the contract in evaluation mode, with running statistics.
func TestBatchNormEval(t *testing.T) {
	mean := []float64{0.5, -1, 2, 0}
	variance := []float64{1, 0.25, 4, 2}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		rm := tensor.New(tensor.WithShape(4), tensor.Of(dt))
		rv := tensor.New(tensor.WithShape(4), tensor.Of(dt))
		for j := range mean {
			set(rm, j, mean[j])
			set(rv, j, variance[j])
		}
		checkContract(t, &opContract{
			inputs: batchNormInputs,
			build: func(x, _ []*G.Node) (*G.Node, error) {
				return BatchNorm(x[0], x[1], x[2], &BatchNormState{Eps: 1e-5, RunningMean: rm, RunningVar: rv})
			},
			ref: func(x [][]float64) []float64 {
				return batchNormRef(x[0], x[1], x[2], 9, asFloat64(rm), asFloat64(rv), 1e-5)
			},
			bad: batchNormBad(),
		})
	}
}

// TestBatchNormState checks the batch statistics the op leaves for the running averages, and
// that switching the mode of a compiled graph takes effect at the next run.
func TestBatchNormState(t *testing.T) {
	g := G.NewGraph()
	in := batchNormInputs(rand.New(rand.NewPCG(1, 1)), tensor.Float64)
	x := G.NewTensor(g, tensor.Float64, 2, G.WithShape(9, 4), G.WithValue(in[0]), G.WithName("x"))
	gain := G.NewTensor(g, tensor.Float64, 1, G.WithShape(4), G.WithValue(in[1]), G.WithName("g"))
	bias := G.NewTensor(g, tensor.Float64, 1, G.WithShape(4), G.WithValue(in[2]), G.WithName("b"))
	rm := tensor.New(tensor.WithShape(4), tensor.WithBacking([]float64{1, 2, 3, 4}))
	rv := tensor.New(tensor.WithShape(4), tensor.WithBacking([]float64{1, 1, 1, 1}))
	s := &BatchNormState{Training: true, Eps: 1e-5, RunningMean: rm, RunningVar: rv}
	y, err := BatchNorm(x, gain, bias, s)
	if err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	xs := in[0].Float64s()
	for _, training := range []bool{true, false, true} {
		s.Training, s.Ran = training, false
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		var want []float64
		if training {
			want = batchNormRef(xs, in[1].Float64s(), in[2].Float64s(), 9, nil, nil, 1e-5)
		} else {
			want = batchNormRef(xs, in[1].Float64s(), in[2].Float64s(), 9, rm.Float64s(), rv.Float64s(), 1e-5)
		}
		got := y.Value().(*tensor.Dense).Float64s()
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-12 {
				t.Fatalf("training %v: element %d = %v, want %v", training, i, got[i], want[i])
			}
		}
		if s.Ran != training {
			t.Fatalf("training %v: Ran = %v", training, s.Ran)
		}
	}
	for j := 0; j < 4; j++ {
		mean, v := 0.0, 0.0
		for i := 0; i < 9; i++ {
			mean += xs[i*4+j] / 9
		}
		for i := 0; i < 9; i++ {
			v += (xs[i*4+j] - mean) * (xs[i*4+j] - mean) / 9
		}
		if math.Abs(s.BatchMean[j]-mean) > 1e-12 || math.Abs(s.BatchVar[j]-v) > 1e-12 || s.Rows != 9 {
			t.Fatalf("column %d: batch mean %v variance %v rows %d, want %v %v 9", j, s.BatchMean[j], s.BatchVar[j], s.Rows, mean, v)
		}
	}
}

func BenchmarkBatchNorm(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	g := G.NewGraph()
	xv := randDense(rng, tensor.Float32, 20000, 32)
	x := G.NewTensor(g, tensor.Float32, 2, G.WithShape(20000, 32), G.WithValue(xv), G.WithName("x"))
	gain := G.NewTensor(g, tensor.Float32, 1, G.WithShape(32), G.WithValue(randDense(rng, tensor.Float32, 32)), G.WithName("g"))
	bias := G.NewTensor(g, tensor.Float32, 1, G.WithShape(32), G.WithValue(randDense(rng, tensor.Float32, 32)), G.WithName("b"))
	y, err := BatchNorm(x, gain, bias, &BatchNormState{Training: true, Eps: 1e-5})
	if err != nil {
		b.Fatal(err)
	}
	loss := G.Must(G.Sum(G.Must(G.Square(y))))
	if _, err := G.Grad(loss, x, gain, bias); err != nil {
		b.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	for i := 0; i < b.N; i++ {
		m.Reset()
		if err := m.RunAll(); err != nil {
			b.Fatal(err)
		}
	}
}
