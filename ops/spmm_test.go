package ops

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// aggregateContract holds SumAggregate, MeanAggregate, WeightedAggregate and MaxAggregate (kind
// as in reference) to the op contract on smallGraph, which has a destination without in-edges and
// a source without out-edges.
func aggregateContract(name, kind string, op func(*graph.CSR, *G.Node) (*G.Node, error)) *opContract {
	a := smallGraph(nil)
	unweighted, _ := graph.FromBipartiteEdges(7, 6, []int{0, 1}, []int{1, 2})
	bad := []badInput{
		{"rows", func(g *G.ExprGraph) (*G.Node, error) { return op(a, matNode(g, tensor.Float32, 5, 3, "x")) }, "has 5 rows, want 7"},
		{"vector", func(g *G.ExprGraph) (*G.Node, error) { return op(a, vecNode(g, tensor.Float32, 7, "x")) }, "want a matrix"},
		{"nil graph", func(g *G.ExprGraph) (*G.Node, error) { return op(nil, matNode(g, tensor.Float32, 7, 3, "x")) }, "nil graph"},
		{"nil node", func(g *G.ExprGraph) (*G.Node, error) { return op(a, nil) }, "nil input"},
	}
	if kind == "weighted" {
		bad = append(bad, badInput{"no weights", func(g *G.ExprGraph) (*G.Node, error) {
			return op(unweighted, matNode(g, tensor.Float32, 7, 3, "x"))
		}, "needs edge weights"})
	}
	return &opContract{
		ops: []string{name},
		inputs: func(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense {
			if kind == "max" {
				return []*tensor.Dense{distinctDense(rng, dt, a.NumSrc, 5)}
			}
			return []*tensor.Dense{randDense(rng, dt, a.NumSrc, 5)}
		},
		build: func(x, _ []*G.Node) (*G.Node, error) { return op(a, x[0]) },
		ref:   func(x [][]float64) []float64 { return reference(kind, a, x[0], nil, 5) },
		bad:   bad,
	}
}

var (
	_ = register(aggregateContract("SumAggregate", "sum", SumAggregate))
	_ = register(aggregateContract("MeanAggregate", "mean", MeanAggregate))
	_ = register(aggregateContract("WeightedAggregate", "weighted", WeightedAggregate))
)

func TestSumAggregate(t *testing.T)      { runContract(t, "SumAggregate") }
func TestMeanAggregate(t *testing.T)     { runContract(t, "MeanAggregate") }
func TestWeightedAggregate(t *testing.T) { runContract(t, "WeightedAggregate") }
