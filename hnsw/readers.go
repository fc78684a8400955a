package hnsw

import "sync/atomic"

// readers counts the searches running by the parity of the epoch they entered in, so that the
// writer can wait for every search that entered before a point without holding back those that
// enter after it (the grace period of read-copy-update). One writer at a time calls wait.
type readers struct {
	epoch   atomic.Uint64
	active  [2]atomic.Int64
	waiting [2]atomic.Bool // the writer waits for active[p] to reach 0
	// done wakes the writer: the search that brings the count it waits for to 0 sends (a
	// stale token only makes it check again). A wake-up readies it at once, as a mutex's
	// would; polling with sleeps left it behind the searches it waited for on a busy machine.
	done chan struct{}
}

// enter registers a search and returns its epoch, for exit.
func (r *readers) enter() uint64 {
	for {
		e := r.epoch.Load()
		r.active[e&1].Add(1)
		if r.epoch.Load() == e {
			return e
		}
		r.exit(e) // the epoch moved on meanwhile: enter the new one
	}
}

// exit ends a search that entered in epoch e.
func (r *readers) exit(e uint64) {
	if r.active[e&1].Add(-1) == 0 && r.waiting[e&1].Load() {
		select {
		case r.done <- struct{}{}:
		default: // a token is already there
		}
	}
}

// wait returns once every search that entered before the call has exited. Searches entering
// meanwhile count in the next epoch, which the previous wait drained of its earlier readers.
func (r *readers) wait() {
	p := r.epoch.Load() & 1
	r.waiting[p].Store(true)
	r.epoch.Add(1)
	for r.active[p].Load() != 0 {
		<-r.done
	}
	r.waiting[p].Store(false)
}
