// Package hugepage finds the part of a buffer that 2 MB pages can back and asks the kernel
// (Linux) for them, for the tables that are read at random across their whole length (hnsw's
// vectors and lists, ops' gathered feature matrices), where 4 KB pages miss the TLB.
package hugepage

import "unsafe"

// Size is the page size asked for.
const Size = 2 << 20

// Interior returns the 2 MB-aligned interior of x as bytes, nil when x holds no whole aligned
// 2 MB page.
func Interior[T any](x []T) []byte {
	var zero T
	n := uintptr(len(x)) * unsafe.Sizeof(zero)
	if n == 0 {
		return nil
	}
	base := unsafe.Pointer(unsafe.SliceData(x))
	p := uintptr(base)
	lo := (p + Size - 1) &^ (Size - 1)
	hi := (p + n) &^ (Size - 1)
	if hi <= lo {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Add(base, lo-p)), hi-lo)
}
