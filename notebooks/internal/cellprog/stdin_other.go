//go:build !linux

package cellprog

import "os"

const canSeeStdinReads = false

func waitingOnStdin(pid int) bool { return false }

func pipeBuffered(w *os.File) int { return -1 }
