//go:build !unix

package main

// pollReadable is nil where poll(2) is missing: the engine then blocks in read at once.
func pollReadable(fd int) func() (bool, error) { return nil }
