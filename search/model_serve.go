//go:build gognn_serve

package search

import "errors"

// ErrNoTraining is what Train returns, once it has applied the pending feedback edges, in a
// program built with the gognn_serve tag: that build serves (search, feedback, add, delete,
// save, load) without linking Gorgonia, and learns nothing.
var ErrNoTraining = errors.New("search: this program was built with the gognn_serve tag, without the training stack; train in a build without it (or load weights trained elsewhere with SetWeights)")

// trainContext stands in for nn.Context, which the build without training does not link.
type trainContext struct{ seed uint64 }

func newTrainContext(seed uint64) (*trainContext, error) { return &trainContext{seed: seed}, nil }

// newParams returns the initial parameters, the same as the full build's for the same seed.
func newParams(base *trainContext, d, h int) ([]*param, error) {
	return initParams(base.seed, d, h), nil
}

// step refuses: there is no gradient without the training stack.
func (s *Index) step([]*event, []sparseVec, [][]int32, [][]int32) (float64, int, error) {
	return 0, 0, ErrNoTraining
}
