package hnsw

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// madviseHuge asks for 2 MB pages behind mem (MADV_HUGEPAGE).
func madviseHuge(mem []byte) error { return unix.Madvise(mem, unix.MADV_HUGEPAGE) }

// hugeBytes returns the 2 MB-aligned interior of t as bytes, nil when t has none.
func hugeBytes[T any](t []T) []byte {
	var zero T
	n := uintptr(len(t)) * unsafe.Sizeof(zero)
	if n == 0 {
		return nil
	}
	base := unsafe.Pointer(unsafe.SliceData(t))
	p := uintptr(base)
	lo := (p + hugePage - 1) &^ (hugePage - 1)
	hi := (p + n) &^ (hugePage - 1)
	if hi <= lo {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Add(base, lo-p)), hi-lo)
}
