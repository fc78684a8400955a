package main

import (
	"math"
	"runtime/metrics"
)

// pauseMetrics are the runtime's histograms of stop-the-world pauses: the time to stop every
// P (a P held by a thread the kernel leaves waiting, such as a low-priority training thread
// on a busy machine, stretches it) and the whole pause, both for the garbage collector.
// The next two count the bytes allocated on the heap and the garbage collections completed;
// the last is the histogram of the time goroutines waited, runnable, for a P (the Go
// scheduler's queueing, not the kernel's).
var pauseMetrics = []string{"/sched/pauses/stopping/gc:seconds", "/sched/pauses/total/gc:seconds",
	"/gc/heap/allocs:bytes", "/gc/cycles/total:gc-cycles", "/sched/latencies:seconds"}

// pauses is a reading of pauseMetrics.
type pauses []metrics.Sample

func readPauses() pauses {
	s := make([]metrics.Sample, len(pauseMetrics))
	for i, name := range pauseMetrics {
		s[i].Name = name
	}
	metrics.Read(s)
	return s
}

// allocsSince returns the bytes allocated and the garbage collections completed since the
// reading before.
func (p pauses) allocsSince(before pauses) (bytes, cycles uint64) {
	return p[2].Value.Uint64() - before[2].Value.Uint64(), p[3].Value.Uint64() - before[3].Value.Uint64()
}

// schedSince returns the upper bounds in milliseconds of the histogram buckets holding the
// 99th and 99.9th percentiles of the scheduling latencies since the reading before.
func (p pauses) schedSince(before pauses) (p99, p999 float64) {
	a, b := p[4], before[4]
	if a.Value.Kind() != metrics.KindFloat64Histogram || b.Value.Kind() != metrics.KindFloat64Histogram {
		return math.NaN(), math.NaN()
	}
	ha, hb := a.Value.Float64Histogram(), b.Value.Float64Histogram()
	var total uint64
	for i := range ha.Counts {
		total += ha.Counts[i] - hb.Counts[i]
	}
	at := func(q float64) float64 {
		var seen uint64
		for i := range ha.Counts {
			if seen += ha.Counts[i] - hb.Counts[i]; float64(seen) >= q*float64(total) {
				return min(ha.Buckets[i+1], ha.Buckets[len(ha.Buckets)-2]) * 1000
			}
		}
		return 0
	}
	if total == 0 {
		return 0, 0
	}
	return at(0.99), at(0.999)
}

// maxSince returns, for each metric, the upper bound in milliseconds of the highest bucket that
// gained a pause since the reading before, and the number of GC pauses.
func (p pauses) maxSince(before pauses) (stopMs, totalMs float64, n uint64) {
	top := func(a, b metrics.Sample) (float64, uint64) {
		if a.Value.Kind() != metrics.KindFloat64Histogram || b.Value.Kind() != metrics.KindFloat64Histogram {
			return math.NaN(), 0
		}
		ha, hb := a.Value.Float64Histogram(), b.Value.Float64Histogram()
		var hi float64
		var count uint64
		for i := range ha.Counts {
			if d := ha.Counts[i] - hb.Counts[i]; d > 0 {
				count += d
				hi = ha.Buckets[i+1]
			}
		}
		return hi * 1000, count
	}
	stopMs, _ = top(p[0], before[0])
	totalMs, n = top(p[1], before[1])
	return stopMs, totalMs, n
}
