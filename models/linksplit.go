package models

import (
	"fmt"
	"math/rand/v2"

	"github.com/gnnlab/gognn/graph"
)

// Edge is an undirected node pair; in a LinkSplit U < V.
type Edge struct{ U, V int }

// LinkSplit is a random split of an undirected graph's edges for link prediction, as PyTorch
// Geometric's RandomLinkSplit(is_undirected=True): positive training, validation and test
// edges, as many negative (non-)edges as positives for validation and test, and the
// message-passing graph, which holds the training edges only (both directions), so no
// validation or test edge leaks into what the encoder sees.
type LinkSplit struct {
	NumNodes int
	// Graph is the message-passing graph: the training edges in both directions.
	Graph                                      *graph.CSR
	TrainPos, ValPos, ValNeg, TestPos, TestNeg []Edge
	// edges holds every edge of the original graph (u < v), the set negatives avoid.
	edges map[Edge]bool
	// train holds the training edges, which SampleNegatives avoids.
	train map[Edge]bool
}

// RandomLinkSplit splits the undirected edges of g (self-loops dropped; g must be symmetric,
// as the data sets' graphs are) at random: a fraction val for validation, test for testing
// (PyG's default 0.05 and 0.1; counts rounded down as PyG does), the rest for training.
// Validation and test negatives are distinct non-edges of g, drawn uniformly.
func RandomLinkSplit(g *graph.CSR, val, test float64, rng *rand.Rand) (*LinkSplit, error) {
	if g.NumSrc != g.NumDst {
		return nil, fmt.Errorf("models: link split of a bipartite graph (%d sources, %d destinations)", g.NumSrc, g.NumDst)
	}
	if val < 0 || test < 0 || val+test >= 1 {
		return nil, fmt.Errorf("models: link split fractions val %v, test %v: want >= 0 with val+test < 1", val, test)
	}
	s := &LinkSplit{NumNodes: g.NumDst, edges: map[Edge]bool{}, train: map[Edge]bool{}}
	var all []Edge
	for v := 0; v < g.NumDst; v++ {
		src, _ := g.Row(v)
		for _, u := range src {
			if int(u) == v {
				continue
			}
			e := Edge{min(int(u), v), max(int(u), v)}
			if !s.edges[e] {
				s.edges[e] = true
				all = append(all, e)
			}
		}
	}
	if len(all) < 3 {
		return nil, fmt.Errorf("models: link split of a graph with %d edges: too few", len(all))
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	nVal, nTest := int(val*float64(len(all))), int(test*float64(len(all)))
	s.ValPos, s.TestPos, s.TrainPos = all[:nVal], all[nVal:nVal+nTest], all[nVal+nTest:]
	pairs := float64(s.NumNodes) * float64(s.NumNodes-1) / 2
	if float64(len(all)+nVal+nTest) > pairs {
		return nil, fmt.Errorf("models: link split: %d edges of %v possible leave too few non-edges for %d negatives", len(all), pairs, nVal+nTest)
	}
	neg := s.sample(nVal+nTest, s.edges, map[Edge]bool{}, rng)
	s.ValNeg, s.TestNeg = neg[:nVal], neg[nVal:]
	src := make([]int, 0, 2*len(s.TrainPos))
	dst := make([]int, 0, 2*len(s.TrainPos))
	for _, e := range s.TrainPos {
		s.train[e] = true
		src = append(src, e.U, e.V)
		dst = append(dst, e.V, e.U)
	}
	var err error
	if s.Graph, err = graph.FromEdges(s.NumNodes, src, dst); err != nil {
		return nil, err
	}
	return s, nil
}

// SampleNegatives draws k distinct node pairs uniformly among those that are not training
// edges and not self-loops (negative sampling against the message-passing graph, as PyG's
// negative_sampling on train_data.edge_index): the per-epoch negatives of training.
func (s *LinkSplit) SampleNegatives(k int, rng *rand.Rand) []Edge {
	return s.sample(k, s.train, map[Edge]bool{}, rng)
}

// sample draws k distinct pairs u < v outside avoid and taken, by rejection; the caller makes
// sure enough exist.
func (s *LinkSplit) sample(k int, avoid, taken map[Edge]bool, rng *rand.Rand) []Edge {
	out := make([]Edge, 0, k)
	for len(out) < k {
		u, v := rng.IntN(s.NumNodes), rng.IntN(s.NumNodes)
		if u == v {
			continue
		}
		e := Edge{min(u, v), max(u, v)}
		if avoid[e] || taken[e] {
			continue
		}
		taken[e] = true
		out = append(out, e)
	}
	return out
}
