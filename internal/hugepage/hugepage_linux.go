package hugepage

import "golang.org/x/sys/unix"

// Advise marks mem for 2 MB pages (MADV_HUGEPAGE): pages first touched afterwards are taken
// as 2 MB ones when the kernel has them.
func Advise(mem []byte) error { return unix.Madvise(mem, unix.MADV_HUGEPAGE) }

// Collapse moves what mem already holds onto 2 MB pages (MADV_COLLAPSE, Linux 6.1 and later).
func Collapse(mem []byte) error { return unix.Madvise(mem, unix.MADV_COLLAPSE) }
