package hnsw_test

import (
	"fmt"

	"github.com/gnnlab/gognn/hnsw"
)

func Example() {
	ix, err := hnsw.New(hnsw.Config{Dim: 2, Metric: hnsw.L2, M: 8, Seed: 1})
	if err != nil {
		panic(err)
	}
	for _, v := range [][]float32{{0, 0}, {1, 0}, {0, 1}, {5, 5}} {
		if _, err := ix.Add(v); err != nil {
			panic(err)
		}
	}
	res, err := ix.Search([]float32{0.9, 0.2}, 2, 0)
	if err != nil {
		panic(err)
	}
	for _, r := range res {
		fmt.Printf("id %d at squared distance %.2f\n", r.ID, r.Dist)
	}
	if err := ix.Delete(1); err != nil {
		panic(err)
	}
	res, _ = ix.Search([]float32{0.9, 0.2}, 1, 0)
	fmt.Println("after deleting 1:", res[0].ID)

	// Layer 0 as a graph: node i receives messages from its neighbours.
	g, err := ix.Layer(0)
	if err != nil {
		panic(err)
	}
	src, _ := g.Row(0)
	fmt.Println("neighbours of 0 on layer 0:", src)
	// Output:
	// id 1 at squared distance 0.05
	// id 0 at squared distance 0.85
	// after deleting 1: 0
	// neighbours of 0 on layer 0: [2 3]
}
