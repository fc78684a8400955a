package search

import (
	"fmt"
	"slices"
)

// Add inserts vectors into the HNSW index and returns their ids. The new nodes are embedded and
// so are the corpus nodes whose layer-0 neighbour lists the insertions changed (the nodes that
// linked back to a new one, and the nodes they pruned): the GNN has one layer, so a node's
// embedding depends only on its own and its neighbours' features, and this incremental refresh
// gives exactly the embeddings a full recomputation would. Adding many vectors in one call
// costs one refresh; each call reads the whole layer 0 (O(nodes * M)).
func (s *Index) Add(vecs ...[]float32) ([]int, error) {
	for i, v := range vecs {
		if err := s.checkVector(v, fmt.Sprintf("Add: vector %d", i)); err != nil {
			return nil, err
		}
	}
	s.trainMu.Lock()
	defer s.trainMu.Unlock()
	ids := make([]int, 0, len(vecs))
	var addErr error
	for _, v := range vecs {
		id, err := s.ix.Add(v)
		if err != nil {
			addErr = fmt.Errorf("search: Add: vector %d: %w", len(ids), err)
			break
		}
		ids = append(ids, id)
	}
	if err := s.integrate(); err != nil {
		return ids, err
	}
	return ids, addErr
}

// integrate brings the serving state up to date with the HNSW index after insertions (trainMu
// held).
func (s *Index) integrate() error {
	n0, n := len(s.feats), s.ix.Len()
	feats := slices.Clip(s.feats)
	for i := n0; i < n; i++ {
		v, err := s.ix.Vector(i)
		if err != nil {
			return err
		}
		feats = append(feats, sparsify(v))
	}
	nbrs, err := layer0(s.ix)
	if err != nil {
		return err
	}
	var dirty []int
	for i := range nbrs {
		if i >= n0 || !slices.Equal(nbrs[i], s.nbrs[i]) {
			dirty = append(dirty, i)
		}
	}
	fb := make([][]int32, n)
	copy(fb, s.fb)
	emb := make([][]float32, n) // a new table: the published one is read by searches
	copy(emb, s.emb)
	s.w.embedRows(emb, dirty, feats, nbrs, fb)
	s.mu.Lock()
	s.feats, s.nbrs, s.fb, s.emb = feats, nbrs, fb, emb
	s.mu.Unlock()
	return nil
}
