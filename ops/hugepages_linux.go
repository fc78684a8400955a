package ops

import "golang.org/x/sys/unix"

// madviseHugePages marks mem for 2 MB pages and collapses what it holds into them. Errors are
// dropped: EINVAL before Linux 6.1 (no MADV_COLLAPSE) or with transparent huge pages off,
// EAGAIN or ENOMEM when no 2 MB page is free; the memory then keeps its 4 KB pages.
func madviseHugePages(mem []byte) error {
	if err := unix.Madvise(mem, unix.MADV_HUGEPAGE); err != nil {
		return err
	}
	return unix.Madvise(mem, unix.MADV_COLLAPSE)
}
