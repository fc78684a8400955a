package hnsw

import "fmt"

// AddAll adds vecs in order, each as Add would, and returns their ids. After each vector it calls
// progress(done, len(vecs)) when progress is not nil, so a long build can show how far it has got
// (a progress bar, a notebook cell's output). It stops at the first vector Add rejects and
// returns the ids added before it with an error naming the vector's position.
func (ix *Index) AddAll(vecs [][]float32, progress func(done, total int)) ([]int, error) {
	ids := make([]int, 0, len(vecs))
	for i, v := range vecs {
		id, err := ix.Add(v)
		if err != nil {
			return ids, fmt.Errorf("hnsw: AddAll: vector %d of %d: %w", i, len(vecs), err)
		}
		ids = append(ids, id)
		if progress != nil {
			progress(i+1, len(vecs))
		}
	}
	return ids, nil
}
