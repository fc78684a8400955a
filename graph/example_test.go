package graph_test

import (
	"fmt"

	"github.com/gnnlab/gognn/graph"
)

// A graph is built from its edges and read by destination: row i lists the nodes whose
// features flow into node i. GCNNorm adds self-loops and weights edge j -> i by 1/sqrt(d_i d_j).
func Example() {
	// A path 0 - 1 - 2, each edge in both directions.
	g, err := graph.FromEdges(3, []int{0, 1, 1, 2}, []int{1, 0, 2, 1})
	if err != nil {
		panic(err)
	}
	fmt.Println(g)
	for i := range g.NumDst {
		src, _ := g.Row(i)
		fmt.Printf("node %d reads %v\n", i, src)
	}
	norm, err := g.GCNNorm()
	if err != nil {
		panic(err)
	}
	src, w := norm.Row(1)
	fmt.Printf("normalised row 1: sources %v, weights %.3f\n", src, w)
	// Output:
	// CSR(3 src, 3 dst, 4 edges, weighted=false)
	// node 0 reads [1]
	// node 1 reads [0 2]
	// node 2 reads [1]
	// normalised row 1: sources [0 1 2], weights [0.408 0.333 0.408]
}
