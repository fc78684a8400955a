//go:build !unix

package cellprog

import "os/exec"

// ownProcessGroup leaves cmd as it is: cancelling kills the program only.
func ownProcessGroup(cmd *exec.Cmd) {}
