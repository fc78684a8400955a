package hnsw

import (
	"runtime"
	"sync/atomic"
	"time"
)

// readers counts the searches running by the parity of the epoch they entered in, so that the
// writer can wait for every search that entered before a point without holding back those that
// enter after it (the grace period of read-copy-update). One writer at a time calls wait.
type readers struct {
	epoch  atomic.Uint64
	active [2]atomic.Int64
}

// enter registers a search and returns its epoch, for exit.
func (r *readers) enter() uint64 {
	for {
		e := r.epoch.Load()
		r.active[e&1].Add(1)
		if r.epoch.Load() == e {
			return e
		}
		r.active[e&1].Add(-1) // the epoch moved on meanwhile: enter the new one
	}
}

// exit ends a search that entered in epoch e.
func (r *readers) exit(e uint64) { r.active[e&1].Add(-1) }

// wait returns once every search that entered before the call has exited. Searches entering
// meanwhile count in the next epoch, which the previous wait drained of its earlier readers.
func (r *readers) wait() {
	e := r.epoch.Add(1) - 1
	for i := 0; r.active[e&1].Load() != 0; i++ {
		if i < 64 {
			runtime.Gosched()
		} else {
			time.Sleep(20 * time.Microsecond)
		}
	}
}
