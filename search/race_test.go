//go:build race

package search

// The race detector slows the index down about tenfold; tests shrink their data sets under it.
const raceEnabled = true
