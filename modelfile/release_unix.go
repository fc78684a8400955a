//go:build unix

package modelfile

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Release tells the kernel that the process does not need the matrix's pages for now
// (madvise MADV_DONTNEED): they leave the process's resident set but stay in the page cache as
// long as memory allows, and the next access maps them again, from the cache or the disk.
// Slices of the matrix stay valid. Call it between passes over a matrix larger than the
// memory the process should hold; the result of reading the matrix does not change.
func (m *Matrix) Release() error {
	if len(m.m) == 0 || !m.mapped { // heap memory (see OpenMatrix) must not be madvised away
		return nil
	}
	if err := unix.Madvise(m.m, unix.MADV_DONTNEED); err != nil {
		return fmt.Errorf("modelfile: releasing the matrix's pages: %w", err)
	}
	return nil
}
