package ops

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gnnlab/gognn/graph"
)

var maxWorkers atomic.Int64

// SetMaxWorkers limits the goroutines an aggregation may use (like torch.set_num_threads); n <= 0
// restores the default, GOMAXPROCS. It returns the previous limit (0 for the default). Results
// do not depend on it.
func SetMaxWorkers(n int) int {
	if n < 0 {
		n = 0
	}
	return int(maxWorkers.Swap(int64(n)))
}

func workers() int {
	w := runtime.GOMAXPROCS(0)
	if m := int(maxWorkers.Load()); m > 0 && m < w {
		w = m
	}
	return w
}

// serialWork is the amount of work (edges x width) below which starting goroutines costs more
// than it saves.
var serialWork = 1 << 15 // a variable so that tests can force the parallel paths on small inputs

// forRows calls fn on ranges of destination rows that together cover [0, g.NumDst), in
// parallel when the work is large enough. Each row belongs to exactly one range.
func forRows(g *graph.CSR, width int, fn func(lo, hi int)) {
	w := workers()
	if w == 1 || (g.NumEdges()+g.NumDst)*width < serialWork {
		fn(0, g.NumDst)
		return
	}
	forBounds(g.Partition(w), fn)
}

// forBounds calls fn on the ranges [bounds[k], bounds[k+1]), each on its own goroutine but the
// first, which runs on the caller's.
func forBounds(bounds []int, fn func(lo, hi int)) {
	var wg sync.WaitGroup
	for k := 1; k < len(bounds)-1; k++ {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(bounds[k], bounds[k+1])
	}
	fn(bounds[0], bounds[1])
	wg.Wait()
}

// forColumns calls fn on ranges of feature columns that together cover [0, width): used by
// scatters, which conflict across rows but never across columns.
func forColumns(rows, width int, fn func(lo, hi int)) {
	w := workers()
	if w == 1 || rows*width < serialWork || width < 2*16 {
		fn(0, width)
		return
	}
	// Column blocks of 16 elements keep each worker on whole cache lines.
	blocks := (width + 15) / 16
	if w > blocks {
		w = blocks
	}
	var wg sync.WaitGroup
	for k := 1; k < w; k++ {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(min(width, 16*(blocks*k/w)), min(width, 16*(blocks*(k+1)/w)))
	}
	fn(0, min(width, 16*(blocks/w)))
	wg.Wait()
}

// forChunks calls fn on ranges that together cover [0, n), in parallel when the work, n items
// of the given width, is large enough.
func forChunks(n, width int, fn func(lo, hi int)) {
	w := workers()
	if w == 1 || n*width < 4*serialWork {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for k := 1; k < w; k++ {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(n*k/w, n*(k+1)/w)
	}
	fn(0, n/w)
	wg.Wait()
}
