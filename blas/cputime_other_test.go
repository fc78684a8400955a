//go:build !unix

package blas

import "time"

// cpuTime is unknown here: the benchmarks report wall-clock GFLOP/s only.
func cpuTime() time.Duration { return 0 }
