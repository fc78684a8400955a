package search

import (
	"fmt"
	"runtime"
	"sync"
)

// Background says how Train and SetWeights do their long work: the optimiser steps and the
// re-embedding of every corpus node with the new weights (at 100,000 x 128 vectors, about a
// second of CPU per Train). Searches, Feedback and writes go on meanwhile; what they need is
// CPU, which this work competes for.
type Background struct {
	// Workers is the number of goroutines that re-embed the corpus; 0 selects GOMAXPROCS-1 (at
	// least 1), which leaves a core to the requests served meanwhile.
	Workers int
	// LowPriority runs the work on OS threads of the lowest scheduling priority (Linux: nice 19
	// for each such thread, which dies with its goroutine; elsewhere it has no effect), so that
	// it takes only the CPU that requests leave idle: on 2 cores at half the saturated request
	// rate it otherwise takes a core for a second and the requests queue behind the other one.
	// A goroutine holds one of the GOMAXPROCS Ps while it runs, also while the kernel leaves its
	// thread waiting, so raise GOMAXPROCS by Workers (cmd/gognn-serve does), or the requests
	// lose Workers Ps whenever training runs. The optimiser steps' sparse aggregations (package
	// ops) start goroutines of their own at normal priority unless ops.SetMaxWorkers(1) keeps
	// them on the calling thread (cmd/gognn-serve sets it: training is its only use of ops).
	// On a machine where other processes keep every core busy, a garbage collection can wait
	// for such a thread to be given a core before it stops the world (the runtime metric
	// /sched/pauses/stopping/gc:seconds shows it); there, normal priority may serve better.
	LowPriority bool
}

// MaxBackgroundWorkers bounds Background.Workers.
const MaxBackgroundWorkers = 1024

// SetBackground configures the long work of Train and SetWeights from now on (a Train running
// meanwhile finishes first). The zero Background is the default: GOMAXPROCS-1 workers at normal
// priority. It is not saved with the index.
func (s *Index) SetBackground(b Background) error {
	if b.Workers < 0 || b.Workers > MaxBackgroundWorkers {
		return fmt.Errorf("search: Background.Workers = %d: want 0 (GOMAXPROCS-1) to %d", b.Workers, MaxBackgroundWorkers)
	}
	s.learnMu.Lock()
	defer s.learnMu.Unlock()
	s.bg = b
	return nil
}

// workers returns the number of re-embedding goroutines.
func (b Background) workers() int {
	if b.Workers > 0 {
		return b.Workers
	}
	return max(1, runtime.GOMAXPROCS(0)-1)
}

// run calls fn(0), ..., fn(n-1) on n goroutines, on threads of the lowest priority when
// b.LowPriority, and waits for them.
func (b Background) run(n int, fn func(p int)) {
	var wg sync.WaitGroup
	for p := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if b.LowPriority {
				lowerThreadPriority()
			}
			fn(p)
		}()
	}
	wg.Wait()
}

// parallel is Background.run at normal priority: for work a caller waits for.
func parallel(n int, fn func(p int)) { Background{}.run(n, fn) }
