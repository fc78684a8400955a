//go:build unix && !linux

package main

// yieldCPU does nothing where the engine does not call sched_yield(2).
func yieldCPU() {}
