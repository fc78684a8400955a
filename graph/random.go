package graph

import (
	"fmt"
	"math/rand/v2"
)

// Random returns a graph on n nodes in which every node has exactly deg in-neighbours drawn
// uniformly from the other nodes without repetition. The same seed gives the same graph on every
// machine (PCG generator), so tests and benchmarks are reproducible.
func Random(n, deg int, seed uint64) (*CSR, error) {
	if n < 0 || n > maxNodes {
		return nil, fmt.Errorf("graph: random graph with %d nodes: want 0 <= n <= %d", n, maxNodes)
	}
	if deg < 0 || (n > 0 && deg > n-1) {
		return nil, fmt.Errorf("graph: random graph with in-degree %d on %d nodes: want 0 <= deg <= n-1", deg, n)
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	rowPtr := make([]int, n+1)
	col := make([]int32, 0, n*deg)
	row := make([]int32, 0, deg)
	for i := 0; i < n; i++ {
		row = row[:0]
		for len(row) < deg {
			j := int32(rng.IntN(n - 1))
			if int(j) >= i {
				j++ // skip the self-loop
			}
			if !contains(row, j) {
				row = append(row, j)
			}
		}
		sortInt32(row)
		col = append(col, row...)
		rowPtr[i+1] = len(col)
	}
	return &CSR{NumSrc: n, NumDst: n, RowPtr: rowPtr, ColIdx: col}, nil
}

func contains(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func sortInt32(s []int32) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
