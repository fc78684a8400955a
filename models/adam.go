package models

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Adam is the Adam optimiser (Kingma & Ba, 2015) with L2 weight decay added to the gradient (as
// torch.optim.Adam's weight_decay), computing exactly what gorgonia.AdamSolver computes, element
// by element in the parameters' dtype, so a run with it is bit-identical to one with Gorgonia's
// solver; unlike that solver its learning rate may change between steps (a schedule, such as
// the GIN paper's halving every 50 epochs).
//
//	g = grad + WeightDecay*w;  m = Beta1*m + (1-Beta1)*g;  v = Beta2*v + (1-Beta2)*g^2
//	w -= LearningRate * (m / (1-Beta1^t)) / (sqrt(v / (1-Beta2^t)) + Eps)
//
// The gradient is zeroed after the step. State follows the parameters' position in the list
// given to Step, so give them in the same order every step.
type Adam struct {
	LearningRate, WeightDecay float64
	Beta1, Beta2, Eps         float64 // NewAdam sets 0.9, 0.999, 1e-8
	iter                      int
	m, v                      [][]float64 // float64 parameters' moments
	m32, v32                  [][]float32 // float32 parameters' moments
}

// NewAdam returns Adam with the usual betas and epsilon.
func NewAdam(lr, weightDecay float64) *Adam {
	return &Adam{LearningRate: lr, WeightDecay: weightDecay, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// Step applies one update to every parameter from its gradient.
func (a *Adam) Step(params G.Nodes) error {
	if a.m == nil {
		a.m, a.v = make([][]float64, len(params)), make([][]float64, len(params))
		a.m32, a.v32 = make([][]float32, len(params)), make([][]float32, len(params))
	}
	if len(params) != len(a.m) {
		return fmt.Errorf("models: Adam step over %d parameters after %d: give the same parameters every step", len(params), len(a.m))
	}
	a.iter++
	c1 := 1 - math.Pow(a.Beta1, float64(a.iter))
	c2 := 1 - math.Pow(a.Beta2, float64(a.iter))
	for i, n := range params {
		gv, err := n.Grad()
		if err != nil {
			return fmt.Errorf("models: Adam: parameter %s has no gradient: %w", n.Name(), err)
		}
		w, ok1 := n.Value().(*tensor.Dense)
		g, ok2 := gv.(*tensor.Dense)
		if !ok1 || !ok2 || w.Len() != g.Len() {
			return fmt.Errorf("models: Adam: parameter %s is not a dense tensor with a gradient of its shape", n.Name())
		}
		switch w.Dtype() {
		case tensor.Float64:
			ws, gs := w.Float64s(), g.Float64s()
			if a.m[i] == nil {
				a.m[i], a.v[i] = make([]float64, len(ws)), make([]float64, len(ws))
			}
			m, v := a.m[i], a.v[i]
			if len(m) != len(ws) {
				return fmt.Errorf("models: Adam: parameter %d changed size", i)
			}
			b1, b2, wd, cv1, cv2, eta, eps := a.Beta1, a.Beta2, a.WeightDecay, 1/c1, 1/c2, -a.LearningRate, a.Eps
			for k := range ws {
				gk := gs[k]
				if wd != 0 {
					gk += ws[k] * wd
				}
				m[k] = gk*(1-b1) + m[k]*b1
				v[k] = gk*gk*(1-b2) + v[k]*b2
				ws[k] += m[k] * cv1 * eta / (math.Sqrt(v[k]*cv2) + eps)
				gs[k] = 0
			}
		case tensor.Float32:
			ws, gs := w.Float32s(), g.Float32s()
			if a.m32[i] == nil {
				a.m32[i], a.v32[i] = make([]float32, len(ws)), make([]float32, len(ws))
			}
			m, v := a.m32[i], a.v32[i]
			if len(m) != len(ws) {
				return fmt.Errorf("models: Adam: parameter %d changed size", i)
			}
			b1, b2, wd := float32(a.Beta1), float32(a.Beta2), float32(a.WeightDecay)
			cv1, cv2, eta, eps := float32(1)/float32(c1), float32(1)/float32(c2), -float32(a.LearningRate), float32(a.Eps)
			omb1, omb2 := float32(1)-float32(a.Beta1), float32(1)-float32(a.Beta2)
			for k := range ws {
				gk := gs[k]
				if wd != 0 {
					gk += ws[k] * wd
				}
				m[k] = gk*omb1 + m[k]*b1
				v[k] = gk*gk*omb2 + v[k]*b2
				ws[k] += m[k] * cv1 * eta / (float32(math.Sqrt(float64(v[k]*cv2))) + eps)
				gs[k] = 0
			}
		default:
			return fmt.Errorf("models: Adam: parameter %s has dtype %v, want float32 or float64", n.Name(), w.Dtype())
		}
	}
	return nil
}
