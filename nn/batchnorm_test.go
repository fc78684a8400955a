package nn

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestBatchNormModesAndRunningStats(t *testing.T) {
	c, _ := NewContext(tensor.Float64, 2)
	const n, f = 5, 3
	x, xv := param(t, c, "x", n, f)
	bn, err := NewBatchNorm(c, "bn", f)
	if err != nil {
		t.Fatal(err)
	}
	copy(data(bn.Gain), []float64{1, 2, 0.5})
	copy(data(bn.Bias), []float64{0, 1, -1})
	y, err := bn.Forward(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	var yv G.Value
	G.Read(y, &yv)
	m := G.NewTapeMachine(c.Graph)
	defer m.Close()
	runIn := func(training bool) []float64 {
		c.SetTraining(training)
		if err := c.Refresh(); err != nil {
			t.Fatal(err)
		}
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		return append([]float64(nil), yv.Data().([]float64)...)
	}
	mean, biased := make([]float64, f), make([]float64, f)
	for k := 0; k < f; k++ {
		for i := 0; i < n; i++ {
			mean[k] += xv[i*f+k] / n
		}
		for i := 0; i < n; i++ {
			biased[k] += (xv[i*f+k] - mean[k]) * (xv[i*f+k] - mean[k]) / n
		}
	}
	norm := func(mu, v []float64) []float64 {
		out := make([]float64, n*f)
		for i := 0; i < n; i++ {
			for k := 0; k < f; k++ {
				out[i*f+k] = (xv[i*f+k]-mu[k])/math.Sqrt(v[k]+1e-5)*data(bn.Gain)[k] + data(bn.Bias)[k]
			}
		}
		return out
	}
	near(t, "training output", runIn(true), norm(mean, biased))
	// Evaluation folds the training run into the running statistics first.
	rm, rv := make([]float64, f), make([]float64, f)
	for k := range rm {
		rm[k] = 0.1 * mean[k]
		rv[k] = 0.9 + 0.1*biased[k]*n/(n-1)
	}
	near(t, "evaluation output", runIn(false), norm(rm, rv))
	near(t, "running mean", bn.RunningMean.Float64s(), rm)
	near(t, "running variance", bn.RunningVar.Float64s(), rv)
	// A second evaluation folds nothing more.
	runIn(false)
	near(t, "running mean after evaluation", bn.RunningMean.Float64s(), rm)

	// The running statistics are shared with a model rebuilt by Next.
	c2 := c.Next()
	bn2, _ := NewBatchNorm(c2, "bn", f)
	if &bn2.RunningMean.Float64s()[0] != &bn.RunningMean.Float64s()[0] {
		t.Error("running statistics not shared across Next")
	}
	if _, err := bn.Forward(nil, x); err == nil {
		t.Error("a batch norm applied twice in one graph was accepted")
	}
}

func TestBatchNormGradient(t *testing.T) {
	c, _ := NewContext(tensor.Float64, 3)
	x, _ := param(t, c, "x", 6, 2)
	bn, _ := NewBatchNorm(c, "bn", 2)
	y, err := bn.Forward(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	gradCheck(t, c, y, append(bn.Learnables(), x))
}
