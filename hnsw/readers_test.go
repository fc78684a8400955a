package hnsw

import (
	"testing"
	"time"
)

// TestReadersWait: wait returns only after the readers that entered before it exit, and not
// later than that for readers that enter while it waits.
func TestReadersWait(t *testing.T) {
	r := &readers{done: make(chan struct{}, 1)}
	early := r.enter()
	done := make(chan struct{})
	go func() {
		r.wait()
		close(done)
	}()
	for r.epoch.Load() == early { // wait has begun its grace period
		time.Sleep(time.Millisecond)
	}
	late := r.enter() // in the next epoch: not waited for
	select {
	case <-done:
		t.Fatal("wait returned while a reader that entered before it was running")
	case <-time.After(20 * time.Millisecond):
	}
	r.exit(early)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("wait did not return after the earlier reader exited (it waited for a later one)")
	}
	r.exit(late)
	if late == early {
		t.Error("a reader entering during a grace period got the old epoch")
	}
	r.wait() // nothing running: returns at once
}
