package search

import (
	"fmt"
	"slices"
	"strings"
)

// Add inserts vectors into the HNSW index and returns their ids. Ids of deleted vectors are
// reused first (the most recently deleted first), then new ids Len(), Len()+1, ... are handed
// out, so memory follows the number of live vectors rather than of all vectors ever added.
//
// The new nodes are embedded and so are the corpus nodes whose layer-0 neighbour lists the
// insertions changed (the nodes that linked back to a new one, and the nodes they pruned): the
// GNN has one layer, so a node's embedding depends only on its own and its neighbours' features,
// and this incremental refresh gives exactly the embeddings a full recomputation would. Its
// cost is local: the HNSW writer reports which lists changed. Adding many vectors in one call
// costs one refresh.
func (s *Index) Add(vecs ...[]float32) (ids []int, err error) {
	err = s.alone(func(b *Batch) (err error) {
		ids, err = b.Add(vecs...)
		return err
	})
	return ids, err
}

// Delete removes the vectors ids from the index: HNSW tombstones them and repairs its graph,
// and the GNN's state follows exactly, as Add's refresh does. The nodes whose HNSW or feedback
// neighbours change are re-embedded; the deleted ids' feedback edges are removed, and so are
// they from the replay buffer's events (an event left with no shown result is dropped) and from
// the co-relevance pairs waiting for Train. A deleted id is never returned again, and a later
// Add may reuse it. Deleting an unknown or already deleted id is an error, and then nothing is
// deleted.
func (s *Index) Delete(ids ...int) error {
	return s.alone(func(b *Batch) error { return b.Delete(ids...) })
}

// Update replaces the vector of the live id and relinks it in the HNSW graph (hnsw.Index.Update),
// keeping its id; the GNN's state follows as for Add and Delete, the nodes that have id as a
// neighbour included, since their input changed. For feedback an updated vector is a new
// document: the judgements and feedback edges of the old one are forgotten as Delete forgets
// them.
func (s *Index) Update(id int, vec []float32) error {
	return s.alone(func(b *Batch) error { return b.Update(id, vec) })
}

// UpdateBatch is Update of vecs[i] to ids[i] for every i, with one refresh of the serving state
// for the whole batch, which ends in the state that the same Updates one by one give (the HNSW
// writes are the same, in the same order, and the refresh is exact). A refresh copies the
// per-node tables, so updating many vectors costs one copy instead of one per vector. Every id
// and vector is checked before anything changes: an id that is not live, an id listed twice or
// a bad vector is an error, and then nothing is updated.
func (s *Index) UpdateBatch(ids []int, vecs [][]float32) error {
	return s.alone(func(b *Batch) error { return b.UpdateBatch(ids, vecs) })
}

// Batch is a sequence of writes (Add, Delete, UpdateBatch, in any mix) applied to the HNSW index
// in order as they are called, with one refresh of the GNN's serving state for all of them at
// Commit: the nodes that several writes touch are re-embedded once. Each write checks its input
// against the index as the writes before it in the batch left it, and an error refuses that
// write only (nothing of it is applied), never the others. The state after Commit is the one the
// same writes made one by one by Index.Add, Delete and UpdateBatch give, bit for bit, ids
// included (the refresh is exact; TestBatchEqualsSequence). Searches run meanwhile, as during
// an Add: their HNSW part sees each write as it is made, their re-ranking the serving state of
// before the batch until Commit (a candidate with no embedding yet is skipped).
//
// Begin takes the index's write lock, which Commit releases: other writes, Train's short parts
// and Save wait for the batch, so a batch must be short and must always be committed. A Batch is
// for one goroutine.
type Batch struct {
	s       *Index
	wrote   bool
	reused  []int // ids given new vectors: reused by Add or updated, in order, possibly twice
	deleted []int // ids deleted, in order
	forget  []int // ids whose feedback is forgotten: updated ones
}

// alone applies write as a batch of its own: a Commit error, which concerns the whole batch,
// comes before write's own.
func (s *Index) alone(write func(*Batch) error) error {
	b := s.Begin()
	err := write(b)
	if cerr := b.Commit(); cerr != nil {
		return cerr
	}
	return err
}

// Begin starts a batch of writes; see Batch.
func (s *Index) Begin() *Batch {
	s.trainMu.Lock()
	return &Batch{s: s}
}

// Add is Index.Add within the batch: ids of deleted vectors are reused first, those deleted
// earlier in the batch included, as Index.Add after Index.Delete would.
func (b *Batch) Add(vecs ...[]float32) ([]int, error) {
	s := b.s
	for i, v := range vecs {
		if err := s.checkVector(v, fmt.Sprintf("Add: vector %d", i)); err != nil {
			return nil, err
		}
	}
	ids := make([]int, 0, len(vecs))
	for _, v := range vecs {
		var id int
		var err error
		if k := len(s.free); k > 0 {
			id = s.free[k-1]
			if err = s.wr.Update(id, v); err == nil {
				s.free = s.free[:k-1]
				b.reused = append(b.reused, id)
			}
		} else {
			id, err = s.wr.Add(v)
		}
		if err != nil {
			return ids, fmt.Errorf("search: Add: vector %d: %w", len(ids), err)
		}
		b.wrote = true
		ids = append(ids, id)
	}
	return ids, nil
}

// Delete is Index.Delete within the batch: an id added earlier in the batch may be deleted, and
// the deleted ids are free for the batch's later adds.
func (b *Batch) Delete(ids ...int) error {
	s := b.s
	n := s.ix.Len()
	seen := make(map[int]bool, len(ids))
	for i, id := range ids {
		switch {
		case id < 0 || id >= n:
			return fmt.Errorf("search: Delete: ids[%d] = %d is not an id of the index (ids 0..%d)", i, id, n-1)
		case s.ix.Deleted(id):
			return fmt.Errorf("search: Delete: ids[%d] = %d is already deleted", i, id)
		case seen[id]:
			return fmt.Errorf("search: Delete: ids[%d] = %d is listed twice", i, id)
		}
		seen[id] = true
	}
	for _, id := range ids {
		if err := s.wr.Delete(id); err != nil {
			return fmt.Errorf("search: Delete: %w", err)
		}
		b.wrote = true
		b.deleted = append(b.deleted, id)
		s.free = append(s.free, id)
	}
	return nil
}

// Update is Index.Update within the batch.
func (b *Batch) Update(id int, vec []float32) error {
	return b.update("Update", []int{id}, [][]float32{vec})
}

// UpdateBatch is Index.UpdateBatch within the batch.
func (b *Batch) UpdateBatch(ids []int, vecs [][]float32) error {
	if len(ids) != len(vecs) {
		return fmt.Errorf("search: UpdateBatch: %d ids and %d vectors; vecs[i] replaces the vector of ids[i]", len(ids), len(vecs))
	}
	return b.update("UpdateBatch", ids, vecs)
}

// update is Update (op "Update", one id) and UpdateBatch; errors name the op and the position.
func (b *Batch) update(op string, ids []int, vecs [][]float32) error {
	s := b.s
	name := func(list string, i int) string {
		if op == "Update" {
			return strings.TrimSuffix(list, "s")
		}
		return fmt.Sprintf("%s[%d] =", list, i)
	}
	for i, v := range vecs {
		if err := s.checkVector(v, op+": "+strings.TrimSuffix(name("vecs", i), " =")); err != nil {
			return err
		}
	}
	n := s.ix.Len()
	seen := make(map[int]bool, len(ids))
	for i, id := range ids {
		if id < 0 || id >= n || s.ix.Deleted(id) {
			return fmt.Errorf("search: %s: %s %d is not a live vector of the index (ids 0..%d, %d deleted)", op, name("ids", i), id, n-1, n-s.ix.Live())
		}
		if seen[id] {
			return fmt.Errorf("search: %s: %s %d is listed twice", op, name("ids", i), id)
		}
		seen[id] = true
	}
	for i, id := range ids {
		if err := s.wr.Update(id, vecs[i]); err != nil {
			return fmt.Errorf("search: %s: %s %d: %w", op, name("ids", i), id, err)
		}
		b.wrote = true
		b.reused = append(b.reused, id)
		b.forget = append(b.forget, id)
	}
	return nil
}

// Commit refreshes the serving state for every write of the batch, once, and releases the write
// lock. It must be called exactly once; its error (the refresh's, which only a broken HNSW index
// gives) concerns every write of the batch.
func (b *Batch) Commit() error {
	s := b.s
	defer s.trainMu.Unlock()
	if !b.wrote {
		return nil
	}
	// The net effect of the batch per id: deleted ids that are still deleted, ids given new
	// vectors that are live. An id deleted and then reused keeps the deletion's forgetting.
	ch := changes{}
	seen := map[int]bool{}
	for _, id := range b.deleted {
		if s.ix.Deleted(id) && !seen[id] {
			ch.deleted = append(ch.deleted, id)
		}
		seen[id] = true
	}
	ch.forget = append(ch.forget, b.forget...)
	for _, id := range b.deleted {
		if !s.ix.Deleted(id) {
			ch.forget = append(ch.forget, id)
		}
	}
	done := map[int]bool{}
	for _, id := range b.reused {
		if !s.ix.Deleted(id) && !done[id] {
			ch.updated = append(ch.updated, id)
			done[id] = true
		}
	}
	return s.refresh(ch)
}

// changes lists the writes made to the HNSW index since the serving state was last refreshed:
// ids given new vectors (updated, or deleted ids reused by Add) and ids deleted. New ids are
// those from the old length up.
type changes struct {
	updated, deleted []int
	forget           []int // live ids whose feedback is forgotten (updated, or deleted and reused)
}

// refresh brings the serving state up to date with the HNSW index after the writes ch (trainMu
// held): features, the symmetrised layer-0 lists from the writer's record of changed lists, the
// feedback graph and buffer without the deleted ids, and the embeddings of every node whose
// inputs changed. Everything is computed first, as overlays on the published tables (rows of
// the nodes that change), and then installed row by row under a short write lock, so that a
// write costs what it changes, not a copy of every per-node table.
func (s *Index) refresh(ch changes) error {
	n0, n := len(s.feats), s.ix.Len()
	feats := map[int32]sparseVec{}
	dirty := map[int]bool{}
	for i := n0; i < n; i++ {
		v, err := s.ix.Vector(i)
		if err != nil {
			return err
		}
		feats[int32(i)] = sparsify(v)
		dirty[i] = true
	}
	for _, id := range ch.updated {
		v, err := s.ix.Vector(id)
		if err != nil {
			return err
		}
		feats[int32(id)] = sparsify(v)
		dirty[id] = true
	}
	for _, id := range ch.deleted {
		feats[int32(id)] = sparseVec{}
	}
	feat := func(j int32) sparseVec {
		if f, ok := feats[j]; ok {
			return f
		}
		return s.feats[j]
	}
	nbrs, err := s.relink(n, dirty)
	if err != nil {
		return err
	}
	nbr := overlay(nbrs, s.nbrs)
	// Nodes with an updated node as a neighbour see new input features.
	for _, id := range ch.updated {
		for _, j := range nbr(int32(id)) {
			dirty[int(j)] = true
		}
	}
	fb := map[int32][]int32{}
	gone := map[int32]bool{}
	for _, id := range ch.deleted {
		gone[int32(id)] = true
	}
	for _, id := range ch.forget {
		gone[int32(id)] = true
	}
	if len(gone) > 0 {
		// Feedback lists are not symmetric (each node keeps its newest), so look in every one:
		// the scan of every node is what a write costs most at 100,000, hence no map lookup per
		// entry for the usual one or two ids.
		isGone := member(gone)
		for j, row := range s.fb {
			if len(row) > 0 && slices.ContainsFunc(row, isGone) && !gone[int32(j)] {
				fb[int32(j)] = slices.DeleteFunc(slices.Clone(row), isGone)
				dirty[j] = true
			}
		}
		for j := range gone {
			if int(j) < len(s.fb) && s.fb[j] != nil {
				fb[j] = nil
			}
		}
		s.bufMu.Lock()
		s.buf.forget(gone)
		s.bufMu.Unlock()
	}
	fbr := overlay(fb, s.fb)
	for _, id := range ch.deleted {
		delete(dirty, id)
	}
	ids := make([]int, 0, len(dirty))
	for id := range dirty {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	emb := s.w.embedSome(ids, feat, nbr, fbr)
	if s.during != nil { // a Train is embedding with new weights: it redoes these
		for _, id := range ids {
			s.during[id] = true
		}
		for id := range gone { // the deleted ids and the forgotten ones
			s.duringGone[id] = true
		}
	}
	s.mu.Lock()
	s.feats, s.nbrs, s.fb, s.emb = grow(s.feats, n), grow(s.nbrs, n), grow(s.fb, n), grow(s.emb, n)
	for j, f := range feats {
		s.feats[j] = f
	}
	for j, r := range nbrs {
		s.nbrs[j] = r
	}
	for j, r := range fb {
		s.fb[j] = r
	}
	for k, id := range ids {
		s.emb[id] = emb[k]
	}
	for _, id := range ch.deleted {
		s.emb[id] = nil
	}
	s.mu.Unlock()
	return nil
}

// member returns the membership test of set: a scan of its ids when they are few, which beats
// a map lookup.
func member(set map[int32]bool) func(int32) bool {
	if len(set) > 4 {
		return func(x int32) bool { return set[x] }
	}
	ids := make([]int32, 0, len(set))
	for x := range set {
		ids = append(ids, x)
	}
	return func(x int32) bool { return slices.Contains(ids, x) }
}

// overlay returns the lists of table with the rows in over replacing theirs (nil past its end).
func overlay(over map[int32][]int32, table [][]int32) func(int32) []int32 {
	return func(j int32) []int32 {
		if r, ok := over[j]; ok {
			return r
		}
		if int(j) < len(table) {
			return table[j]
		}
		return nil
	}
}

// grow returns t extended with zero rows to length n (mu held exclusively, or t unpublished).
func grow[T any](t []T, n int) []T {
	for len(t) < n {
		var zero T
		t = append(t, zero)
	}
	return t
}

// relink returns the rows of the symmetrised layer-0 lists that the HNSW writes changed, for n
// nodes, adding their nodes to dirty. Only the lists the writer reports as changed are reread:
// an undirected edge {u, x} is present when u lists x or x lists u. Changed rows are new
// slices; the published ones are not written.
func (s *Index) relink(n int, dirty map[int]bool) (map[int32][]int32, error) {
	changed := s.wr.Changed()
	for len(s.out0) < n {
		s.out0 = append(s.out0, nil)
	}
	type pair struct{ u, x int32 }
	var pairs []pair
	for _, u := range changed {
		out, err := s.wr.Neighbours(u)
		if err != nil {
			return nil, err
		}
		for _, x := range s.out0[u] {
			pairs = append(pairs, pair{int32(u), x})
		}
		for _, x := range out {
			pairs = append(pairs, pair{int32(u), x})
		}
		s.out0[u] = out
	}
	rows := map[int32][]int32{} // rows already copied in this call
	set := func(a, b int32, present bool) {
		row, fresh := rows[a]
		if !fresh && int(a) < len(s.nbrs) {
			row = s.nbrs[a]
		}
		i, found := slices.BinarySearch(row, b)
		if found == present {
			return
		}
		if !fresh {
			row = slices.Clone(row)
		}
		if present {
			row = slices.Insert(row, i, b)
		} else {
			row = slices.Delete(row, i, i+1)
		}
		rows[a] = row
		dirty[int(a)] = true
	}
	for _, p := range pairs {
		present := slices.Contains(s.out0[p.u], p.x) || slices.Contains(s.out0[p.x], p.u)
		set(p.u, p.x, present)
		set(p.x, p.u, present)
	}
	return rows, nil
}
