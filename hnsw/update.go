package hnsw

import (
	"fmt"
	"slices"
	"sync/atomic"
)

// Update replaces the vector of id (copied; normalised for Cosine) and relinks the node, keeping
// its id and its level. A live id is first unlinked exactly as Delete does (its in-neighbours are
// repaired from its other neighbours), then inserted again as Add inserts a new node, so the
// graph is the one an Add of the new vector would give at that level. A deleted id comes back to
// life with the new vector: that is how a caller reuses the ids of deleted vectors. While Update
// runs, searches do not return id.
//
// Once the index is owned (Own), Update returns an error: update through the owner.
func (ix *Index) Update(id int, vec []float32) error {
	if err := ix.checkUnowned("Update"); err != nil {
		return err
	}
	return ix.update(id, vec)
}

func (ix *Index) update(id int, vec []float32) error {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	if n := ix.Len(); id < 0 || id >= n {
		return fmt.Errorf("hnsw: Update: id %d out of range [0, %d)", id, n)
	}
	v, err := prepare(ix.cfg.Metric, ix.cfg.Dim, vec, "Update: vector", ix.wq)
	if err != nil {
		return err
	}
	ix.wq = v
	d := int32(id)
	if !ix.isDeleted(d) {
		ix.unlink(d)
	}
	// Searches read stored vectors without a lock. d is unlinked (deleted, or unlinked just
	// now), so no search that starts from here on reaches it: wait for those that started
	// before, then overwrite. Taking the table lock instead would also hold back every search
	// that starts while the running ones finish.
	ix.readers.wait()
	ix.vecMu.Lock()
	copy(ix.vec(d), v)
	ix.vecMu.Unlock()
	atomic.StoreUint32(&ix.deleted[d], 0)
	ix.nDel.Add(-1)
	ix.insert(d, int(ix.levels[d]))
	return nil
}

// Own marks the index as owned by a wrapper named owner (such as "search.Index") and returns the
// Writer through which the owner changes it. From then on Add, Delete and Update on the Index
// return an error naming the owner, so that a change made behind the wrapper's back, which the
// wrapper could not see, is refused instead of leaving the wrapper's view stale. Reading (Search,
// Vector, Layer, Save, ...) is unaffected. An index has at most one owner; ownership is not
// saved (Load returns an unowned index).
func (ix *Index) Own(owner string) (*Writer, error) {
	if owner == "" {
		owner = "a wrapper"
	}
	if !ix.owner.CompareAndSwap(nil, &owner) {
		return nil, fmt.Errorf("hnsw: Own: the index is already owned by %s; wrap a copy (Save and Load) instead", *ix.owner.Load())
	}
	ix.writeMu.Lock()
	ix.touched = map[int32]bool{}
	ix.writeMu.Unlock()
	return &Writer{ix: ix}, nil
}

// Owner returns the name given to Own, or "" while the index is not owned.
func (ix *Index) Owner() string {
	if p := ix.owner.Load(); p != nil {
		return *p
	}
	return ""
}

func (ix *Index) checkUnowned(op string) error {
	if p := ix.owner.Load(); p != nil {
		return fmt.Errorf("hnsw: %s: the index is owned by %s, which must see every change; call %s on it instead", op, *p, op)
	}
	return nil
}

// Writer changes an owned index; only its owner holds it. Its methods are Index.Add, Delete
// and Update without the ownership check.
type Writer struct{ ix *Index }

// Add is Index.Add.
func (w *Writer) Add(vec []float32) (int, error) { return w.ix.add(vec) }

// Delete is Index.Delete.
func (w *Writer) Delete(id int) error { return w.ix.delete(id) }

// Update is Index.Update.
func (w *Writer) Update(id int, vec []float32) error { return w.ix.update(id, vec) }

// Changed returns the nodes whose layer-0 neighbour list changed since the last call (or since
// Own), ascending, and starts a new record: what a wrapper that mirrors layer 0 must reread.
func (w *Writer) Changed() []int {
	ix := w.ix
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	out := make([]int, 0, len(ix.touched))
	for id := range ix.touched {
		out = append(out, int(id))
	}
	clear(ix.touched)
	slices.Sort(out)
	return out
}

// Neighbours returns a copy of id's layer-0 neighbour list, in list order (empty for a deleted
// id).
func (w *Writer) Neighbours(id int) ([]int32, error) {
	ix := w.ix
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	if n := ix.Len(); id < 0 || id >= n {
		return nil, fmt.Errorf("hnsw: Neighbours: id %d out of range [0, %d)", id, n)
	}
	return slices.Clone(ix.readLinks(int32(id), 0, nil)), nil
}

// touch records that u's list on layer l changed (writer only).
func (ix *Index) touch(u int32, l int) {
	if l == 0 && ix.touched != nil {
		ix.touched[u] = true
	}
}
