package search

import (
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// lowerThreadPriority locks the calling goroutine to its OS thread and gives the thread the
// lowest scheduling priority, nice 19 (on Linux a nice value is a thread's own). The goroutine
// never unlocks: when it returns, the runtime ends the thread instead of reusing it, so the
// priority goes with it. Threads the runtime starts from a locked goroutine are started from a
// clean template thread, so they do not inherit it. A failure (a sandbox refusing the call)
// leaves the thread at normal priority, which is correct, only slower for the requests.
// It returns the thread's id.
func lowerThreadPriority() int {
	runtime.LockOSThread()
	tid := syscall.Gettid()
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, 19)
	return tid
}

// awaitThreadExit waits, at most for limit, until the process has no thread tid (0: none to
// wait for), polling /proc/self/task.
func awaitThreadExit(tid int, limit time.Duration) {
	if tid == 0 {
		return
	}
	path := "/proc/self/task/" + strconv.Itoa(tid)
	for start := time.Now(); time.Since(start) < limit; time.Sleep(100 * time.Microsecond) {
		if _, err := os.Stat(path); err != nil {
			return
		}
	}
}

// threadNice returns the nice value of the calling thread (for tests).
func threadNice() (int, error) {
	// getpriority returns 20 - nice to avoid negative values (see getpriority(2)).
	p, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
	return 20 - p, err
}

// threadID returns the calling thread's id (for tests).
func threadID() int { return syscall.Gettid() }
