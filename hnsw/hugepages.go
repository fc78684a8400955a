package hnsw

import (
	"unsafe"

	"github.com/gnnlab/gognn/internal/hugepage"
)

// hugePages says whether grown tables of at least minHugeTable bytes ask for 2 MB pages; a
// variable so that tests and benchmarks can compare.
var hugePages = true

// minHugeTable is the smallest table that asks for 2 MB pages.
const minHugeTable = 4 << 20

// adviseHugePages asks the kernel (Linux) to back the 2 MB-aligned interior of a new table
// with 2 MB pages, before anything touches it, so that the first writes fault them in. A
// search reads vectors and neighbour lists at random across the whole of vecs and links0, and
// with 4 KB pages most reads miss the TLB: at 100,000 x 128 a search (k 10, ef 64) took 64 to
// 69 µs with 4 KB pages and 62 to 64 µs with 2 MB ones (BenchmarkSearchHugePages, -count 3,
// AVX-512 kernels). It returns the
// error of the request, which leaves the table as it was (a kernel without transparent huge
// pages, another OS).
func adviseHugePages[T any](t []T) error {
	if !hugePages {
		return nil
	}
	var zero T
	if len(t)*int(unsafe.Sizeof(zero)) < minHugeTable {
		return nil
	}
	mem := hugepage.Interior(t)
	if mem == nil {
		return nil
	}
	return hugepage.Advise(mem)
}
