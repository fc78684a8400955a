package search_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/search"
)

func Example() {
	// A corpus of 200 noisy vectors in 4 hidden classes.
	rng := rand.New(rand.NewPCG(1, 2))
	var vecs [][]float32
	for i := 0; i < 200; i++ {
		v := make([]float32, 16)
		for j := range v {
			v[j] = float32(0.4 * rng.NormFloat64())
		}
		v[i%4] += 1
		vecs = append(vecs, v)
	}
	ix, err := hnsw.New(hnsw.Config{Dim: 16, Metric: hnsw.Cosine, Seed: 1})
	if err != nil {
		panic(err)
	}
	for _, v := range vecs {
		if _, err := ix.Add(v); err != nil {
			panic(err)
		}
	}
	s, err := search.New(ix, search.Config{Hidden: 16, Candidates: 40, QueryDegree: 8, Seed: 1})
	if err != nil {
		panic(err)
	}

	// Search for corpus vector 0 (excluding itself), and say which results were relevant.
	q := search.Query{Vector: vecs[0], Exclude: []int{0}}
	res, err := s.Search(q, 10)
	if err != nil {
		panic(err)
	}
	shown, relevant := make([]int, len(res)), make([]bool, len(res))
	for i, r := range res {
		shown[i], relevant[i] = r.ID, r.ID%4 == 0
	}
	if err := s.Feedback(q, shown, relevant); err != nil {
		panic(err)
	}
	st, err := s.Train()
	if err != nil {
		panic(err)
	}
	fmt.Println("results:", len(res))
	fmt.Println("steps:", st.Steps, "embeddings refreshed:", st.Refreshed)
	// Output:
	// results: 10
	// steps: 20 embeddings refreshed: 200
}
