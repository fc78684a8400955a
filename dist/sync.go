package dist

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/models"
)

// AverageGradients returns a models.TrainConfig.Sync that makes every worker of c take the same
// optimiser step: each step's gradients, loss and weight are replaced by their averages over
// the workers, weighted by each worker's share of the mini-batch (StepResult.Weight, its seed
// count). Since each worker's loss is the mean over its own seeds, the weighted average is the
// gradient of the whole mini-batch's mean loss, exactly what one process training on the
// whole batch computes, up to the order of floating-point sums.
//
// It all-reduces one small float64 header (weighted loss, weight, value count, which checks
// that every worker has the same parameters) and then the gradients, as one float32 or float64
// buffer in the parameters' dtype: per step each worker hands the collective 4 (or 8) bytes per
// parameter.
func AverageGradients(c Comm) func(*models.StepResult) error {
	var buf32 []float32
	var buf64 []float64
	head := make([]float64, 3)
	checked := false
	return func(r *models.StepResult) error {
		if !checked {
			if err := sameWeights(c, r.Grads); err != nil {
				return err
			}
			checked = true
		}
		w := r.Weight
		if w <= 0 {
			w = 1
		}
		n32, n64 := 0, 0
		grads := make([]*tensor.Dense, len(r.Grads))
		for i, p := range r.Grads {
			gv, err := p.Grad()
			if err != nil {
				return fmt.Errorf("dist: parameter %s has no gradient: %w", p.Name(), err)
			}
			g, ok := gv.(*tensor.Dense)
			if !ok {
				return fmt.Errorf("dist: parameter %s: gradient is a %T, want a dense tensor", p.Name(), gv)
			}
			grads[i] = g
			switch g.Dtype() {
			case tensor.Float32:
				n32 += g.Len()
			case tensor.Float64:
				n64 += g.Len()
			default:
				return fmt.Errorf("dist: parameter %s has dtype %v, want float32 or float64", p.Name(), g.Dtype())
			}
		}
		head[0], head[1], head[2] = r.Loss*w, w, float64(n32+n64)
		if err := c.AllReduceSum64(head); err != nil {
			return err
		}
		if want := float64(c.Size() * (n32 + n64)); head[2] != want {
			return fmt.Errorf("dist: rank %d has %d gradient values but the workers' total is %v, want %v: every worker must build the same model", c.Rank(), n32+n64, head[2], want)
		}
		total := head[1]
		if total <= 0 || math.IsNaN(total) {
			return fmt.Errorf("dist: total mini-batch weight %v over %d workers", total, c.Size())
		}
		scale := w / total
		buf32, buf64 = buf32[:0], buf64[:0]
		for _, g := range grads {
			if g.Dtype() == tensor.Float32 {
				for _, v := range g.Float32s() {
					buf32 = append(buf32, v*float32(scale))
				}
			} else {
				for _, v := range g.Float64s() {
					buf64 = append(buf64, v*scale)
				}
			}
		}
		if n32 > 0 {
			if err := c.AllReduceSum32(buf32); err != nil {
				return err
			}
		}
		if n64 > 0 {
			if err := c.AllReduceSum64(buf64); err != nil {
				return err
			}
		}
		i32, i64 := 0, 0
		for _, g := range grads {
			if g.Dtype() == tensor.Float32 {
				i32 += copy(g.Float32s(), buf32[i32:])
			} else {
				i64 += copy(g.Float64s(), buf64[i64:])
			}
		}
		r.Loss, r.Weight = head[0]/total, total
		return nil
	}
}

// BroadcastParams replaces the values of params on every rank by root's, in place (so every
// context sharing the parameter store sees them).
func BroadcastParams(c Comm, params G.Nodes, root int) error {
	for _, p := range params {
		v, ok := p.Value().(*tensor.Dense)
		if !ok {
			return fmt.Errorf("dist: parameter %s is not a dense tensor", p.Name())
		}
		switch v.Dtype() {
		case tensor.Float32:
			if err := c.Broadcast32(v.Float32s(), root); err != nil {
				return err
			}
		case tensor.Float64:
			// A sum with zeros everywhere but at root is root's value, bit for bit.
			d := v.Float64s()
			if c.Rank() != root {
				clear(d)
			}
			if err := c.AllReduceSum64(d); err != nil {
				return err
			}
		default:
			return fmt.Errorf("dist: parameter %s has dtype %v, want float32 or float64", p.Name(), v.Dtype())
		}
	}
	return nil
}

// sameWeights checks, once, that every worker starts from rank 0's weights: workers whose
// contexts drew different initial weights would average gradients of different models.
func sameWeights(c Comm, params G.Nodes) error {
	fp := []float64{0}
	for _, p := range params {
		v, ok := p.Value().(*tensor.Dense)
		if !ok {
			continue
		}
		switch v.Dtype() {
		case tensor.Float32:
			for k, x := range v.Float32s() {
				fp[0] += float64(x) * float64(k%7+1)
			}
		case tensor.Float64:
			for k, x := range v.Float64s() {
				fp[0] += x * float64(k%7+1)
			}
		}
	}
	mine := fp[0]
	if c.Rank() != 0 {
		fp[0] = 0
	}
	if err := c.AllReduceSum64(fp); err != nil {
		return err
	}
	if fp[0] != mine && !(math.IsNaN(fp[0]) && math.IsNaN(mine)) {
		return fmt.Errorf("dist: rank %d starts from other weights than rank 0: give every worker the same seed and build order, or call BroadcastParams first", c.Rank())
	}
	return nil
}
