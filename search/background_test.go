package search

import (
	"runtime"
	"slices"
	"testing"
	"time"
)

// TestBackgroundPriority: the goroutines of a low-priority Background run on threads at nice 19
// (Linux), and the caller's thread and the threads started afterwards keep their priority.
func TestBackgroundPriority(t *testing.T) {
	before, err := threadNiceLocked()
	if err != nil {
		t.Skipf("getpriority: %v", err)
	}
	nice := make([]int, 3)
	Background{LowPriority: true}.run(len(nice), func(p int) { nice[p], _ = threadNice() })
	want := 19
	if runtime.GOOS != "linux" {
		want = 0
	}
	for p, v := range nice {
		if v != want {
			t.Errorf("worker %d ran at nice %d, want %d", p, v, want)
		}
	}
	// The lowered threads ended with their goroutines: fresh goroutines run at the old priority.
	after := make([]int, 8)
	parallel(len(after), func(p int) { after[p], _ = threadNiceLocked() })
	for p, v := range after {
		if v != before {
			t.Errorf("goroutine %d after the workers ran at nice %d, want %d", p, v, before)
		}
	}
	if err := (&Index{}).SetBackground(Background{Workers: -1}); err == nil {
		t.Error("SetBackground accepted Workers = -1")
	}
}

// threadNiceLocked is threadNice on a thread that stays the goroutine's while it reads.
func threadNiceLocked() (int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return threadNice()
}

// TestBackgroundSameModel: training on low-priority threads, on one worker or several, gives the
// model and rankings of the default, bit for bit.
func TestBackgroundSameModel(t *testing.T) {
	c := clustered(300, 16, 4, 4, 0.3, 4)
	pool, eval := split(len(c.vecs), 50)
	var runs [][]Result
	for _, bg := range []Background{{}, {Workers: 1, LowPriority: true}, {Workers: 3, LowPriority: true}} {
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
