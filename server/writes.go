package server

import (
	"fmt"

	"github.com/gnnlab/gognn/search"
)

// Group commit. Writes (adds, puts, deletes) change the index one batch at a time under wmu.
// A write that arrives while a batch is being applied queues; when the batch is done, the
// first queued write becomes the next leader and applies up to Config.WriteBatch queued
// writes (and at most MaxBatch vectors) in arrival order as one search.Batch, so the
// re-embedding they share is done once, then answers each of them with its own result. Each
// write checks its input against the index as the writes before it in the batch left it, so the
// order per id is the arrival order, and a refused write changes nothing and refuses no other.
// A write is answered only once its batch is committed: an acknowledged write is applied.

// writeReq is one queued write.
type writeReq struct {
	apply func(*tx) error // the write, against the batch
	items int             // vectors or ids, for the batch bound
	err   error
	done  bool          // applied, err is its answer; false when woken to lead
	wake  chan struct{} // signalled once: done or lead
}

// write applies fn as one write of items vectors or ids, coalesced with concurrent writes
// unless Config.WriteBatch is 1, and returns its error.
func (sv *Server) write(items int, fn func(*tx) error) error {
	r := &writeReq{apply: fn, items: items}
	if sv.cfg.WriteBatch == 1 {
		sv.wmu.Lock()
		defer sv.wmu.Unlock()
		sv.applyBatch([]*writeReq{r})
		return r.err
	}
	r.wake = make(chan struct{}, 1)
	sv.qmu.Lock()
	sv.queue = append(sv.queue, r)
	lead := !sv.leading
	sv.leading = true
	sv.qmu.Unlock()
	if !lead {
		<-r.wake
		if r.done {
			return r.err
		}
	}
	// r leads: it is at the head of the queue.
	sv.qmu.Lock()
	var batch []*writeReq
	items = 0
	for len(sv.queue) > 0 && len(batch) < sv.cfg.WriteBatch {
		q := sv.queue[0]
		if len(batch) > 0 && items+q.items > sv.cfg.MaxBatch {
			break
		}
		batch, items = append(batch, q), items+q.items
		sv.queue[0] = nil
		sv.queue = sv.queue[1:]
	}
	sv.qmu.Unlock()
	func() {
		sv.wmu.Lock()
		defer sv.wmu.Unlock()
		sv.applyBatch(batch)
	}()
	for _, q := range batch[1:] {
		q.done = true
		q.wake <- struct{}{}
	}
	sv.qmu.Lock()
	if len(sv.queue) > 0 {
		sv.queue[0].wake <- struct{}{} // the next leader
	} else {
		sv.leading = false
	}
	sv.qmu.Unlock()
	return r.err
}

// applyBatch applies the writes of batch in order as one search.Batch (wmu held) and sets each
// one's answer. A write that panics is answered with an error and the others go on.
func (sv *Server) applyBatch(batch []*writeReq) {
	t := &tx{sv: sv, b: sv.ix.Begin(), ids: map[string]int{}}
	for _, r := range batch {
		r.err = t.run(r.apply)
	}
	err := t.b.Commit()
	if err != nil {
		for _, r := range batch {
			if r.err == nil {
				r.err = err
			}
		}
	}
	sv.mu.Lock()
	for _, c := range t.log {
		if c.del {
			sv.ext[c.in] = ""
			delete(sv.ids, c.id)
			continue
		}
		for len(sv.ext) <= c.in {
			sv.ext = append(sv.ext, "")
		}
		sv.ext[c.in], sv.ids[c.id] = c.id, c.in
	}
	sv.mu.Unlock()
	sv.met.writeBatches.Add(1)
	sv.met.writesCoalesced.Add(int64(len(batch)))
}

// tx is a batch of writes being applied: the search.Batch and the changes its writes made to
// the id tables, installed after the batch is committed.
type tx struct {
	sv  *Server
	b   *search.Batch
	ids map[string]int // client id -> internal id as changed by the batch, -1: deleted
	log []idChange     // in order
}

type idChange struct {
	id  string
	in  int
	del bool
}

// run runs one write, turning a panic into its error.
func (t *tx) run(fn func(*tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			t.sv.log.Error("write panicked", "panic", p)
			err = fmt.Errorf("server: internal error in a write: %v", p)
		}
	}()
	return fn(t)
}

// lookup returns the internal id of id as the batch's writes so far left it.
func (t *tx) lookup(id string) (int, bool) {
	if in, ok := t.ids[id]; ok {
		return in, in >= 0
	}
	return t.sv.lookup(id)
}

func (t *tx) set(id string, in int) {
	t.ids[id] = in
	t.log = append(t.log, idChange{id: id, in: in})
}

func (t *tx) remove(id string, in int) {
	t.ids[id] = -1
	t.log = append(t.log, idChange{id: id, in: in, del: true})
}

// add adds items whose ids are absent and returns how many were added.
func (t *tx) add(items []Item) (int, error) {
	if len(items) == 0 {
		return 0, nil
	}
	vecs := make([][]float32, len(items))
	for i, it := range items {
		vecs[i] = it.Vector
	}
	got, err := t.b.Add(vecs...)
	for i, in := range got {
		t.set(items[i].ID, in)
	}
	return len(got), err
}
