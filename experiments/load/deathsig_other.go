//go:build !linux

package main

import "os/exec"

// dieWithParent is a no-op where the system has no parent-death signal: the run kills its
// nats-server when it ends normally.
func dieWithParent(*exec.Cmd) {}
