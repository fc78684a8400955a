package search

import (
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// lowerThreadPriority locks the calling goroutine to its OS thread and gives the thread the
// lowest scheduling priority: the SCHED_IDLE policy, and nice 19 besides (on Linux both are a
// thread's own). Under SCHED_IDLE the kernel preempts the thread whenever a thread of normal
// policy wakes on its core, and places waking threads on its core as on an idle one. The goroutine
// never unlocks: when it returns, the runtime ends the thread instead of reusing it, so the
// priority goes with it. Threads the runtime starts from a locked goroutine are started from a
// clean template thread, so they do not inherit it. A failure (a sandbox refusing the call)
// leaves the thread at normal priority, which is correct, only slower for the requests.
// It returns the thread's id.
func lowerThreadPriority() int {
	runtime.LockOSThread()
	tid := syscall.Gettid()
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, 19)
	_ = unix.SchedSetAttr(tid, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE}, 0)
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

// threadPolicy returns the scheduling policy of the calling thread (for tests).
func threadPolicy() (int, error) {
	a, err := unix.SchedGetAttr(syscall.Gettid(), 0)
	if err != nil {
		return 0, err
	}
	return int(a.Policy), nil
}

// idlePolicy is the policy lowerThreadPriority sets.
const idlePolicy = unix.SCHED_IDLE

// threadID returns the calling thread's id (for tests).
func threadID() int { return syscall.Gettid() }
