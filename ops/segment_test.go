package ops

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// testSegments: 8 rows in segments 0, 2, 3, 5 of 7; segments 1, 4 and 6 are empty.
var testSegments = []int{0, 0, 2, 2, 2, 3, 5, 5}

func segmentContract(name, kind string, op func(x, seg *G.Node, n int) (*G.Node, error)) *opContract {
	return &opContract{
		ops: []string{name},
		inputs: func(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense {
			return []*tensor.Dense{distinctDense(rng, dt, len(testSegments), 3)}
		},
		index: [][]int{testSegments},
		build: func(x, idx []*G.Node) (*G.Node, error) { return op(x[0], idx[0], 7) },
		ref:   func(x [][]float64) []float64 { return refScatter(kind, testSegments, 7, x[0], 3) },
		bad: []badInput{
			{"unsorted", func(g *G.ExprGraph) (*G.Node, error) {
				return op(matNode(g, tensor.Float32, 3, 2, "x"), indexNode(g, "s", []int{0, 2, 1}), 3)
			}, "segment vector is not sorted: 1 at position 2 follows 2"},
			{"length", func(g *G.ExprGraph) (*G.Node, error) {
				return op(matNode(g, tensor.Float32, 4, 2, "x"), indexNode(g, "s", []int{0, 1, 1}), 3)
			}, "segment vector has 3 entries but x has 4 rows"},
			{"range", func(g *G.ExprGraph) (*G.Node, error) {
				return op(matNode(g, tensor.Float32, 3, 2, "x"), indexNode(g, "s", []int{0, 1, 3}), 3)
			}, "segment id 3 at position 2 is out of range [0, 3)"},
			{"dtype", func(g *G.ExprGraph) (*G.Node, error) {
				return op(matNode(g, tensor.Float32, 3, 2, "x"), vecNode(g, tensor.Float32, 3, "s"), 3)
			}, "want a 1-D tensor.Int"},
		},
	}
}

var (
	_ = register(segmentContract("SegmentSum", "sum", SegmentSum))
	_ = register(segmentContract("SegmentMean", "mean", SegmentMean))
	_ = register(segmentContract("SegmentMax", "max", SegmentMax))
)

func TestSegmentSum(t *testing.T)  { runContract(t, "SegmentSum") }
func TestSegmentMean(t *testing.T) { runContract(t, "SegmentMean") }
func TestSegmentMax(t *testing.T)  { runContract(t, "SegmentMax") }
