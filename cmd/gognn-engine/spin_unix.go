//go:build unix

package main

import (
	"errors"

	"golang.org/x/sys/unix"
)

// pollReadable returns a function reporting whether a read of fd would not block now: it has
// data, or an end or error the read will report. When it would block, the function yields the
// CPU (yieldCPU) before it returns, so that a spinning engine never delays the process it
// waits for when the two share a CPU.
func pollReadable(fd int) func() (bool, error) {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	return func() (bool, error) {
		n, err := unix.Poll(fds, 0)
		if errors.Is(err, unix.EINTR) {
			return false, nil
		}
		if n == 0 && err == nil {
			yieldCPU()
		}
		return n > 0, err
	}
}
