//go:build !unix

package modelfile

// Release does nothing on this system; on Unix it drops the matrix's pages from the process's
// resident set.
func (m *Matrix) Release() error { return nil }
