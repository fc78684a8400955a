package cellprog

import (
	"fmt"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

const canSeeStdinReads = true

// waitingOnStdin reports whether a thread of process pid is in a read(2) of file descriptor 0,
// as /proc/<pid>/task/<tid>/syscall shows ("<number> 0x0 ..." while blocked in the call).
func waitingOnStdin(pid int) bool {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return false
	}
	prefix := fmt.Sprintf("%d 0x0 ", syscall.SYS_READ)
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/syscall", pid, t.Name()))
		if err == nil && strings.HasPrefix(string(b), prefix) {
			return true
		}
	}
	return false
}

// pipeBuffered returns the number of bytes in the pipe of w not yet read (-1 when unknown):
// FIONREAD, called TIOCINQ on Linux, answers for either end of a pipe.
func pipeBuffered(w *os.File) int {
	raw, err := w.SyscallConn()
	if err != nil {
		return -1
	}
	n := -1
	raw.Control(func(fd uintptr) {
		if v, err := unix.IoctlGetInt(int(fd), unix.TIOCINQ); err == nil {
			n = v
		}
	})
	return n
}
