package search

import (
	"runtime"
	"syscall"
)

// lowerThreadPriority locks the calling goroutine to its OS thread and gives the thread the
// lowest scheduling priority, nice 19 (on Linux a nice value is a thread's own). The goroutine
// never unlocks: when it returns, the runtime ends the thread instead of reusing it, so the
// priority goes with it. Threads the runtime starts from a locked goroutine are started from a
// clean template thread, so they do not inherit it. A failure (a sandbox refusing the call)
// leaves the thread at normal priority, which is correct, only slower for the requests.
func lowerThreadPriority() {
	runtime.LockOSThread()
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), 19)
}

// threadNice returns the nice value of the calling thread (for tests).
func threadNice() (int, error) {
	// getpriority returns 20 - nice to avoid negative values (see getpriority(2)).
	p, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
	return 20 - p, err
}
