//go:build unix

package blas

import (
	"syscall"
	"time"
)

// cpuTime is the user and system CPU time of the process so far. GFLOP per CPU-second measures
// the kernels when other processes share the cores, where the wall-clock rate depends on the
// scheduler; divided by the per-core peak it is the fraction of the peak reached while running.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
