package ops

import (
	"sync/atomic"
	"unsafe"

	"github.com/gnnlab/gognn/internal/hugepage"
)

var hugePages atomic.Bool

// SetHugePages sets whether the gathers and scatters that read rows in random order (GatherSrc,
// IndexSelect, and the scatters onto edge sources or by an unsorted index: GatherSrc's gradient,
// ScatterAdd, IndexSelect's gradient) ask Linux to back the matrix they read with 2 MB pages
// (madvise MADV_HUGEPAGE, then MADV_COLLAPSE, on the 2 MB-aligned part of its buffer), once per
// buffer. It returns the previous setting; the default is off. It changes no result.
//
// With 4 KB pages every row read from a matrix of hundreds of MB misses the TLB; with 2 MB pages
// GatherSrc's gradient on 1.6 million edges of 128 float32 took 0.7–0.9 of the time
// (BenchmarkGatherScatter, its _huge rows against the plain ones). The cost comes first:
// collapsing a buffer into 2 MB pages copies it, and where the memory is new to the machine (a
// virtual machine's first touch) it took 4–8 s per 800 MB, so it pays in a training loop that
// runs the same graph many times, not in one run. Where madvise fails (an older kernel, no 2 MB
// page free, another OS) the buffer keeps its pages and the op runs as before.
func SetHugePages(on bool) bool { return hugePages.Swap(on) }

// hugeMemo is an op's record of the last buffer it asked 2 MB pages for, so that a buffer reused
// run after run (a compiled graph's) is advised once. It holds the address only, never the buffer.
type hugeMemo struct {
	base uintptr
	n    int
}

// madviseHuge backs mem, 2 MB-aligned, with 2 MB pages; a variable so that tests can make it fail.
var madviseHuge = adviseAndCollapse

// adviseAndCollapse marks mem for 2 MB pages and collapses what it holds into them. Errors are
// dropped by the caller: EINVAL before Linux 6.1 (no MADV_COLLAPSE) or with transparent huge
// pages off, EAGAIN or ENOMEM when no 2 MB page is free; the memory then keeps its 4 KB pages.
func adviseAndCollapse(mem []byte) error {
	if err := hugepage.Advise(mem); err != nil {
		return err
	}
	return hugepage.Collapse(mem)
}

// adviseHuge asks for 2 MB pages behind the 2 MB-aligned part of x when SetHugePages is on and x
// is new to h; failures leave x as it was.
func adviseHuge[T Float](h *hugeMemo, x []T) {
	if !hugePages.Load() || len(x) == 0 {
		return
	}
	p, n := uintptr(unsafe.Pointer(unsafe.SliceData(x))), len(x)*int(unsafe.Sizeof(x[0]))
	if h.base == p && h.n == n {
		return
	}
	h.base, h.n = p, n
	if mem := hugepage.Interior(x); mem != nil {
		madviseHuge(mem)
	}
}
