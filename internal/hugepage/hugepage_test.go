package hugepage

import (
	"testing"
	"unsafe"
)

// TestInterior: the interior is 2 MB-aligned, inside the buffer, and leaves less than a page
// at either end.
func TestInterior(t *testing.T) {
	tab := make([]float32, 3*Size) // 12 MB: at least one aligned 2 MB page inside
	mem := Interior(tab)
	if len(mem) == 0 || len(mem)%Size != 0 {
		t.Fatalf("interior of %d bytes", len(mem))
	}
	lo, hi := uintptr(unsafe.Pointer(&tab[0])), uintptr(unsafe.Pointer(&tab[0]))+uintptr(len(tab))*4
	p := uintptr(unsafe.Pointer(&mem[0]))
	if p%Size != 0 || p < lo || p+uintptr(len(mem)) > hi || p-lo >= Size || hi-(p+uintptr(len(mem))) >= Size {
		t.Errorf("interior [%#x, %#x) of buffer [%#x, %#x)", p, p+uintptr(len(mem)), lo, hi)
	}
	if Interior([]float32{}) != nil || Interior(make([]byte, 100)) != nil {
		t.Error("an interior for a buffer smaller than a page")
	}
}
