//go:build !linux

package search

// lowerThreadPriority has no effect outside Linux, where a nice value belongs to the process.
func lowerThreadPriority() {}

// threadNice reports 0 outside Linux.
func threadNice() (int, error) { return 0, nil }
