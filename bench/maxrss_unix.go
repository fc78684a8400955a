//go:build unix

package bench

import (
	"os"
	"syscall"
)

// maxRSS returns the finished process's peak resident set in MB (10^6 bytes) from getrusage's
// ru_maxrss (kilobytes on Linux), and whether the system reported it.
func maxRSS(ps *os.ProcessState) (float64, bool) {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return 0, false
	}
	return float64(ru.Maxrss) * 1024 / 1e6, true
}
