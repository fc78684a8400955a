package search

import (
	"fmt"
	"math"
)

// Weights is a copy of the GNN's parameters, what a central trainer sends to the indexes that
// serve queries: Tensors[i] holds the parameter named ParamNames()[i], row-major. Version is the
// number of optimiser steps that produced them.
type Weights struct {
	Version int64
	Tensors [][]float32
}

// ParamNames returns the names of the GNN's parameters in the order Weights lists them.
func ParamNames() []string { return append([]string(nil), paramNames...) }

// ModelVersion returns the number of optimiser steps behind the serving model (Stats.Steps,
// without Stats' cost).
func (s *Index) ModelVersion() int64 { return s.steps.Load() }

// Weights returns a copy of the current parameters.
func (s *Index) Weights() Weights {
	s.learnMu.Lock()
	defer s.learnMu.Unlock()
	s.trainMu.Lock()
	defer s.trainMu.Unlock()
	w := Weights{Version: s.adamT}
	for _, p := range s.params {
		w.Tensors = append(w.Tensors, append([]float32(nil), p.Data...))
	}
	return w
}

// SetWeights replaces the parameters by w (trained elsewhere on the same dimension and Hidden),
// recomputes every live embedding and swaps the new model in, as Train does; Stats.Steps becomes
// w.Version. Adam's moments are reset: an index that receives weights is not expected to train.
// Weights with the wrong number or size of tensors, or non-finite values, are an error and
// change nothing. Writes do not wait for the re-embedding, as for Train.
func (s *Index) SetWeights(w Weights) error {
	s.learnMu.Lock()
	defer s.learnMu.Unlock()
	s.trainMu.Lock()
	defer s.trainMu.Unlock()
	if len(w.Tensors) != len(s.params) {
		return fmt.Errorf("search: SetWeights: %d tensors, the model has %d (%v)", len(w.Tensors), len(s.params), paramNames)
	}
	for i, p := range s.params {
		if len(w.Tensors[i]) != len(p.Data) {
			return fmt.Errorf("search: SetWeights: %s has %d values, want %d (shape %v): trained with another dimension or Hidden", p.Name, len(w.Tensors[i]), len(p.Data), p.Shape)
		}
		for j, x := range w.Tensors[i] {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("search: SetWeights: %s[%d] = %v; weights must be finite", p.Name, j, x)
			}
		}
	}
	if w.Version < 0 {
		return fmt.Errorf("search: SetWeights: version %d < 0", w.Version)
	}
	for i, p := range s.params {
		copy(p.Data, w.Tensors[i])
		clear(p.M)
		clear(p.V)
	}
	s.adamT = w.Version
	s.steps.Store(w.Version)
	_, err := s.reembed(nil, s.fb, nil, nil, func([]sparseVec, [][]int32, [][]int32) error { return nil })
	return err
}
