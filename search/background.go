package search

import (
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// Background says how Train and SetWeights do their long work: the optimiser steps and the
// re-embedding of every corpus node with the new weights (at 100,000 x 128 vectors, about a
// second of CPU per Train). Searches, Feedback and writes go on meanwhile; what they need is
// CPU, which this work competes for.
type Background struct {
	// Workers is the number of goroutines that re-embed the corpus; 0 selects GOMAXPROCS-1 (at
	// least 1), which leaves a core to the requests served meanwhile.
	Workers int
	// LowPriority runs the work on OS threads of the lowest scheduling priority (Linux: the
	// SCHED_IDLE policy and nice 19 for each such thread, which dies with its goroutine;
	// elsewhere it has no effect), and pauses it, every yieldRows rows and between optimiser
	// steps, while the process's other goroutines want every CPU (giveWay), so that it takes
	// only the CPU that requests leave idle: on 2 cores at half the saturated request rate it
	// otherwise takes a core for a second and the requests queue behind the other one.
	// A goroutine holds one of the GOMAXPROCS Ps while it runs, also while the kernel leaves its
	// thread waiting, so raise GOMAXPROCS by Workers (cmd/gognn-serve does), or the requests
	// lose Workers Ps whenever training runs. The optimiser steps' sparse aggregations (package
	// ops) start goroutines of their own at normal priority unless ops.SetMaxWorkers(1) keeps
	// them on the calling thread (cmd/gognn-serve sets it: training is its only use of ops).
	// On a machine where other processes keep every core busy, a garbage collection can wait
	// for such a thread to be given a core before it stops the world (the runtime metric
	// /sched/pauses/stopping/gc:seconds shows it); there, normal priority may serve better.
	LowPriority bool
	// Yield runs the work at normal priority but gives way to every other goroutine waiting
	// for a processor: the re-embedding yields (runtime.Gosched, which queues it behind the
	// runnable goroutines) after every few rows, about every 0.1 ms, and the optimiser between
	// steps, besides the runtime's own preemption every 10 ms. It is for servers instead of
	// LowPriority: a low-priority thread that the kernel leaves waiting still runs a goroutine
	// the garbage collector must stop, both to stop the world and to scan its stack, so each
	// collection during training can wait for the kernel to give that thread a core, which on
	// a busy machine takes tens of milliseconds, and every request waits with it (the
	// collection's end, or the world's restart). A yielding goroutine on a thread of normal
	// priority is stopped at once. Leave GOMAXPROCS as it is with Yield, and set Workers to 1
	// so that the work never holds more than one processor. Ignored with LowPriority.
	Yield bool
	// DeferGC keeps the garbage collector off while LowPriority work runs, from the first
	// such goroutine's start to the last one's end, across every Index of the process
	// (debug.SetGCPercent(-1), then the setting before): a collection must stop every
	// goroutine, to stop the world and to scan its stack, so one that starts while a
	// low-priority thread holds a goroutine waits until the kernel gives that thread a core,
	// which, while requests keep every core busy, takes tens of milliseconds; requests that
	// allocate wait with it. Training is also where most garbage is made (Gorgonia builds and
	// runs a new graph per optimiser step), so the collection it defers runs once the
	// low-priority threads have ended, when nothing can hold it up. The heap meanwhile grows by
	// the garbage of one Train and of the requests served during it, up to 3 times the heap
	// goal when the collector went off (or the memory limit set before, debug.SetMemoryLimit
	// or GOMEMLIMIT, if lower), where the runtime collects anyway. Ignored without LowPriority.
	DeferGC bool
}

// yieldRows is how many rows the re-embedding computes between yields with Background.Yield,
// and between checks for waiting requests with LowPriority (giveWay): about 0.1 ms of work at
// dimension 128.
const yieldRows = 4

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
//
// With DeferGC the collector comes back on only once the low-priority threads have ended: a
// goroutine that has signalled its end still holds its P until its thread exits, and the
// kernel may leave that thread waiting right then (waking the caller can preempt it).
func (b Background) run(n int, fn func(p int)) {
	deferring := b.LowPriority && b.DeferGC
	if deferring {
		deferGC()
		defer resumeGC()
	}
	var wg sync.WaitGroup
	threads := make([]int, n)
	for p := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if b.LowPriority {
				threads[p] = lowerThreadPriority()
			}
			fn(p)
		}()
	}
	wg.Wait()
	if deferring {
		for _, t := range threads {
			awaitThreadExit(t, threadExitWait)
		}
	}
}

// threadExitWait bounds how long run waits for one low-priority thread to exit.
const threadExitWait = 100 * time.Millisecond

// gcOff counts the Background.run calls that keep the garbage collector off (DeferGC), and
// gcPercent and gcLimit are the settings to restore when the last ends.
var (
	gcMu      sync.Mutex
	gcOff     int
	gcPercent int
	gcLimit   int64
)

// deferredHeap bounds the heap while the collector is off, as a multiple of the heap goal
// when it was turned off (the heap at which it would have collected next): a memory limit
// (debug.SetMemoryLimit) makes the runtime collect there anyway, so that training starved of
// CPU for long cannot grow the heap without bound.
const deferredHeap = 3

// deferGC turns the garbage collector off, unless a run already did.
func deferGC() {
	gcMu.Lock()
	defer gcMu.Unlock()
	if gcOff == 0 {
		goal := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
		metrics.Read(goal)
		gcLimit = debug.SetMemoryLimit(-1) // reads it
		if goal[0].Value.Kind() == metrics.KindUint64 {
			debug.SetMemoryLimit(min(gcLimit, int64(min(goal[0].Value.Uint64(), math.MaxInt64/deferredHeap))*deferredHeap))
		}
		gcPercent = debug.SetGCPercent(-1)
	}
	gcOff++
}

// resumeGC restores the garbage collector's settings when no run keeps it off any more.
func resumeGC() {
	gcMu.Lock()
	defer gcMu.Unlock()
	if gcOff--; gcOff == 0 {
		debug.SetGCPercent(gcPercent)
		debug.SetMemoryLimit(gcLimit)
	}
}

// yield gives way to the goroutines waiting for a processor when b.Yield (and not
// LowPriority), and to the requests wanting every CPU when LowPriority (giveWay).
func (b Background) yield() {
	switch {
	case b.LowPriority:
		giveWay()
	case b.Yield:
		runtime.Gosched()
	}
}

// yielder returns yield as a function for embedRowsOn, nil when it does nothing.
func (b Background) yielder() func() {
	switch {
	case b.LowPriority:
		return giveWay
	case b.Yield:
		return runtime.Gosched
	}
	return nil
}

// giveWay pauses low-priority work while the process's other goroutines want every CPU: while
// some wait for a processor, or more goroutines run than the machine has CPUs. A low-priority
// thread alone did not leave them the CPU: on 2 cores at half the saturated request rate, with
// training on a nice-19 or SCHED_IDLE thread, the request threads got about 1.1 cores where
// they used 1.3 to 1.6 with training off, and queued (the kernel's reason was not isolated).
// It pauses for giveWayPause at a time, at most giveWayMax in all, so that training still
// advances when the requests never let up.
func giveWay() { giveWayWhile(requestsWantCPU, time.Sleep) }

// giveWayWhile sleeps for giveWayPause while busy reports true, at most giveWayMax in all.
func giveWayWhile(busy func() bool, sleep func(time.Duration)) {
	for waited := time.Duration(0); waited < giveWayMax && busy(); waited += giveWayPause {
		sleep(giveWayPause)
	}
}

// requestsWantCPU reports whether goroutines wait for a processor or more run than the machine
// has CPUs (the caller counts as one), from the runtime's metrics (about 0.1 µs).
func requestsWantCPU() bool {
	schedMu.Lock()
	defer schedMu.Unlock()
	s := schedSamples[:]
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 || s[1].Value.Kind() != metrics.KindUint64 {
		return false
	}
	return s[0].Value.Uint64() > 0 || s[1].Value.Uint64() > uint64(runtime.NumCPU())
}

// schedSamples is requestsWantCPU's buffer, kept so that a check every few rows allocates
// nothing; schedMu guards it across the re-embedding's workers.
var (
	schedMu      sync.Mutex
	schedSamples = [2]metrics.Sample{{Name: "/sched/goroutines/runnable:goroutines"}, {Name: "/sched/goroutines/running:goroutines"}}
)

// giveWayPause and giveWayMax bound giveWay's pauses: each about twice the work between two
// calls (yieldRows rows), at most 20 ms per call.
const (
	giveWayPause = 200 * time.Microsecond
	giveWayMax   = 20 * time.Millisecond
)

// parallel is Background.run at normal priority: for work a caller waits for.
func parallel(n int, fn func(p int)) { Background{}.run(n, fn) }
