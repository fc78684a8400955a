//go:build !linux

package search

import "time"

// lowerThreadPriority has no effect outside Linux, where a nice value belongs to the process;
// it returns 0, no thread to wait for.
func lowerThreadPriority() int { return 0 }

// awaitThreadExit has nothing to wait for outside Linux.
func awaitThreadExit(int, time.Duration) {}

// threadNice reports 0 outside Linux.
func threadNice() (int, error) { return 0, nil }

// threadPolicy reports 0 outside Linux.
func threadPolicy() (int, error) { return 0, nil }

// idlePolicy is 0 outside Linux, where no policy is set.
const idlePolicy = 0

// threadID returns 0 outside Linux (for tests).
func threadID() int { return 0 }
