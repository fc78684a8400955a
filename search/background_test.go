package search

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBackgroundPriority: the goroutines of a low-priority Background run on threads at nice 19
// under SCHED_IDLE (Linux), and the caller's thread and the threads started afterwards keep
// their priority and policy.
func TestBackgroundPriority(t *testing.T) {
	before, err := threadNiceLocked()
	if err != nil {
		t.Skipf("getpriority: %v", err)
	}
	policyBefore, err := threadPolicy()
	if err != nil {
		t.Skipf("sched_getattr: %v", err)
	}
	nice, policy := make([]int, 3), make([]int, 3)
	Background{LowPriority: true}.run(len(nice), func(p int) { nice[p], _ = threadNice(); policy[p], _ = threadPolicy() })
	want := 19
	if runtime.GOOS != "linux" {
		want = 0
	}
	for p, v := range nice {
		if v != want {
			t.Errorf("worker %d ran at nice %d, want %d", p, v, want)
		}
		if policy[p] != idlePolicy {
			t.Errorf("worker %d ran under scheduling policy %d, want %d", p, policy[p], idlePolicy)
		}
	}
	// The lowered threads ended with their goroutines: fresh goroutines run at the old priority.
	after, afterPolicy := make([]int, 8), make([]int, 8)
	parallel(len(after), func(p int) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		after[p], _ = threadNice()
		afterPolicy[p], _ = threadPolicy()
	})
	for p, v := range after {
		if v != before || afterPolicy[p] != policyBefore {
			t.Errorf("goroutine %d after the workers ran at nice %d, policy %d, want %d, %d", p, v, afterPolicy[p], before, policyBefore)
		}
	}
	if err := (&Index{}).SetBackground(Background{Workers: -1}); err == nil {
		t.Error("SetBackground accepted Workers = -1")
	}
}

// TestBackgroundYield: a yielding Background gives way after every yieldRows rows of a
// re-embedding, and never when not yielding (a low-priority one checks for waiting requests
// instead: TestGiveWay).
func TestBackgroundYield(t *testing.T) {
	if (Background{}).yielder() != nil {
		t.Error("a default Background yields")
	}
	c := clustered(100, 8, 2, 2, 0.3, 2)
	s := build(t, c, testConfig)
	yields := 0
	emb := make([][]float32, len(s.feats))
	s.w.embedRowsOn(nil, 1, func() { yields++ }, emb, seq(len(emb)), s.feats, s.nbrs, s.fb)
	if want := len(emb) / yieldRows; yields != want {
		t.Errorf("%d yields over %d rows, want %d", yields, len(emb), want)
	}
	for id, row := range emb {
		if len(row) != s.dim || cap(row) != s.dim || !slices.Equal(row, s.emb[id]) {
			t.Fatalf("row %d: len %d cap %d, or differs from the published embedding", id, len(row), cap(row))
		}
	}
}

// TestBackgroundDeferGC: the garbage collector is off, with a memory limit, while
// low-priority work with DeferGC runs, also when two runs overlap, and its settings are back
// once the last has ended.
func TestBackgroundDeferGC(t *testing.T) {
	gogc := func() uint64 {
		s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	before := debug.SetGCPercent(150)
	defer debug.SetGCPercent(before)
	bg := Background{LowPriority: true, DeferGC: true}
	limit := debug.SetMemoryLimit(-1)
	var during [3]uint64
	var limitDuring int64
	var tids [2]int
	bg.run(2, func(p int) {
		during[p] = gogc()
		tids[p] = threadID()
		if p == 1 {
			limitDuring = debug.SetMemoryLimit(-1)
		}
		if p == 0 {
			bg.run(1, func(int) { during[2] = gogc() })
		}
	})
	for p, v := range during {
		if v != math.MaxUint64 { // how the metric reads "off"
			t.Errorf("run %d: GOGC %d while deferred, want off", p, v)
		}
	}
	if v := gogc(); v != 150 {
		t.Errorf("GOGC %d after the runs, want 150 back", v)
	}
	for p, tid := range tids {
		if _, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", tid)); runtime.GOOS == "linux" && err == nil {
			t.Errorf("run %d's low-priority thread %d still exists after the run", p, tid)
		}
	}
	if l := debug.SetMemoryLimit(-1); l != limit {
		t.Errorf("memory limit %d after the runs, want %d back", l, limit)
	}
	if limitDuring <= 0 || limitDuring >= limit {
		t.Errorf("memory limit %d while deferred, want a bound below %d", limitDuring, limit)
	}
	Background{DeferGC: true}.run(1, func(int) { during[0] = gogc() })
	if during[0] != 150 {
		t.Errorf("GOGC %d in a normal-priority run with DeferGC, want 150: ignored without LowPriority", during[0])
	}
}

// threadNiceLocked is threadNice on a thread that stays the goroutine's while it reads.
func threadNiceLocked() (int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return threadNice()
}

// TestBackgroundSameModel: training on low-priority threads, on one worker or several, or on
// one yielding goroutine, gives the model and rankings of the default, bit for bit.
func TestBackgroundSameModel(t *testing.T) {
	c := clustered(300, 16, 4, 4, 0.3, 4)
	pool, eval := split(len(c.vecs), 50)
	var runs [][]Result
	for _, bg := range []Background{{}, {Workers: 1, LowPriority: true}, {Workers: 3, LowPriority: true}, {Workers: 1, Yield: true}} {
		s := build(t, c, testConfig)
		if err := s.SetBackground(bg); err != nil {
			t.Fatal(err)
		}
		feedbackRound(t, s, c, pool[:30])
		feedbackRound(t, s, c, pool[30:60])
		checkConsistent(t, s)
		runs = append(runs, rankings(t, s, c, eval))
	}
	for i := 1; i < len(runs); i++ {
		if !slices.Equal(runs[0], runs[i]) {
			t.Errorf("background %d ranks differently from the default", i)
		}
	}
}

// TestWritesDoNotWaitForSteps: Add, Delete and Update complete while Train is between taking
// its snapshot and making its optimiser steps, and the state afterwards is exact.
func TestWritesDoNotWaitForSteps(t *testing.T) {
	const n = 300
	c := clustered(n+20, 16, 4, 4, 0.3, 8)
	cur := corpus{vecs: slices.Clone(c.vecs[:n]), labels: slices.Clone(c.labels[:n])}
	s := build(t, cur, testConfig)
	pool, _ := split(n, 50)
	judge(t, s, cur, pool[:40])
	wrote := make(chan error)
	testHookLearn = func() {
		go func() {
			if _, err := s.Add(c.vecs[n]); err != nil {
				wrote <- err
				return
			}
			if err := s.Delete(pool[0], pool[1]); err != nil {
				wrote <- err
				return
			}
			wrote <- s.Update(pool[2], c.vecs[n+1])
		}()
		select {
		case err := <-wrote:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(20 * time.Second):
			t.Error("writes waited for Train's optimiser steps")
		}
	}
	defer func() { testHookLearn = nil }()
	st, err := s.Train()
	if err != nil {
		t.Fatal(err)
	}
	if st.Steps == 0 || st.Refreshed <= s.Live() {
		t.Errorf("Train %+v: want steps, and the written nodes embedded again", st)
	}
	checkConsistent(t, s)
}

// TestGiveWay: low-priority work pauses while requests want the CPU, for at most giveWayMax
// per call, and not at all when they do not.
func TestGiveWay(t *testing.T) {
	var slept time.Duration
	sleep := func(d time.Duration) { slept += d }
	busyFor := func(n int) func() bool { return func() bool { n--; return n >= 0 } }
	giveWayWhile(busyFor(0), sleep)
	if slept != 0 {
		t.Errorf("slept %v with nothing waiting", slept)
	}
	giveWayWhile(busyFor(3), sleep)
	if slept != 3*giveWayPause {
		t.Errorf("slept %v while busy for 3 checks, want %v", slept, 3*giveWayPause)
	}
	slept = 0
	giveWayWhile(func() bool { return true }, sleep)
	if slept != giveWayMax {
		t.Errorf("slept %v while always busy, want the bound %v", slept, giveWayMax)
	}
	if b := (Background{LowPriority: true}); b.yielder() == nil {
		t.Error("a low-priority Background's re-embedding does not check for waiting requests")
	}

	// More goroutines spinning than CPUs: requestsWantCPU sees it.
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range runtime.NumCPU() + 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
			}
		}()
	}
	seen := false
	for start := time.Now(); !seen && time.Since(start) < 10*time.Second; time.Sleep(time.Millisecond) {
		seen = requestsWantCPU()
	}
	stop.Store(true)
	wg.Wait()
	if !seen {
		t.Errorf("requestsWantCPU never reported %d spinning goroutines on %d CPUs", runtime.NumCPU()+2, runtime.NumCPU())
	}
}
