package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the child killed when this process dies, so a failed run leaves no
// nats-server behind.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
