package main

import (
	"io"
	"time"
)

// spinReader reads the engine's stdin and, before a read that would block, polls it for up to
// max, so that a request following its predecessor's response within Max is read by a thread
// that never slept. A thread asleep in read(2) must be woken by the kernel (and, on a virtual
// machine whose idle vCPU halts, its vCPU too), which costs from a few to hundreds of
// microseconds per request; a poll(2) loop costs CPU instead: at most max per request.
//
// It spins only while requests come quickly: when none of the last len(waits) requests came
// within max, it spins before one read in probeEvery only and blocks at once before the
// others, so an engine serving requests seconds apart costs next to no CPU. (A wait measured
// in a blocking read includes the wake-up, so the probes find out when requests come quickly
// again; one that does turns spinning back on.)
type spinReader struct {
	r       io.Reader
	ready   func() (bool, error) // reports whether a read would not block now
	max     time.Duration
	waits   [8]time.Duration // the waits for data of the latest reads, a ring
	next    int
	skipped int // reads not spun before, while requests were slow
}

// probeEvery is how often spinReader spins while requests are slow.
const probeEvery = 16

func (s *spinReader) Read(p []byte) (int, error) {
	start := time.Now()
	if s.max > 0 && s.spinNow() {
		for time.Since(start) < s.max {
			ok, err := s.ready()
			if ok || err != nil {
				break
			}
		}
	}
	n, err := s.r.Read(p)
	s.waits[s.next] = time.Since(start)
	s.next = (s.next + 1) % len(s.waits)
	return n, err
}

func (s *spinReader) spinNow() bool {
	if s.recentlyQuick() {
		return true
	}
	s.skipped++
	return s.skipped%probeEvery == 0
}

// recentlyQuick reports whether one of the latest reads found data within max (true at start,
// when the ring is zero).
func (s *spinReader) recentlyQuick() bool {
	for _, w := range s.waits {
		if w <= s.max {
			return true
		}
	}
	return false
}
