package server

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// latencyBuckets are the upper bounds, in seconds, of the latency histograms.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// histogram is a Prometheus histogram of request latencies.
type histogram struct {
	counts []atomic.Int64 // per bucket, not cumulative; the last is +Inf
	sumNs  atomic.Int64
	n      atomic.Int64
}

func newHistogram() *histogram {
	return &histogram{counts: make([]atomic.Int64, len(latencyBuckets)+1)}
}

func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	i := sort.SearchFloat64s(latencyBuckets, s)
	h.counts[i].Add(1)
	h.sumNs.Add(int64(d))
	h.n.Add(1)
}

// metrics are the server's counters, written in the Prometheus text format by /metrics.
type metrics struct {
	mu        sync.Mutex
	routes    map[string]*histogram // by route pattern
	codes     map[string]*atomic.Int64
	rejected  atomic.Int64
	snapshots atomic.Int64
	trains    atomic.Int64
	// writeBatches and writesCoalesced count the batches of group commit and the writes in them.
	writeBatches, writesCoalesced atomic.Int64
	start                         time.Time
	// QPS over the last qpsWindow seconds: requests per one-second slot.
	slots [qpsWindow + 1]struct{ sec, n atomic.Int64 }
}

const qpsWindow = 10

func newMetrics() *metrics {
	return &metrics{routes: map[string]*histogram{}, codes: map[string]*atomic.Int64{}, start: time.Now()}
}

func (m *metrics) observe(route string, code int, d time.Duration) {
	m.mu.Lock()
	h := m.routes[route]
	if h == nil {
		h = newHistogram()
		m.routes[route] = h
	}
	key := fmt.Sprintf("route=%q,code=\"%d\"", route, code)
	c := m.codes[key]
	if c == nil {
		c = new(atomic.Int64)
		m.codes[key] = c
	}
	m.mu.Unlock()
	h.observe(d)
	c.Add(1)
	now := time.Now().Unix()
	s := &m.slots[now%int64(len(m.slots))]
	if old := s.sec.Load(); old != now && s.sec.CompareAndSwap(old, now) {
		s.n.Store(0)
	}
	s.n.Add(1)
}

// qps returns the mean request rate over the last qpsWindow complete seconds.
func (m *metrics) qps() float64 {
	now := time.Now().Unix()
	var n int64
	for i := range m.slots {
		if sec := m.slots[i].sec.Load(); sec < now && sec >= now-qpsWindow {
			n += m.slots[i].n.Load()
		}
	}
	w := min(float64(qpsWindow), time.Since(m.start).Seconds())
	if w < 1 {
		return 0
	}
	return float64(n) / w
}

// write writes the exposition.
func (m *metrics) write(w io.Writer, st Stats) {
	m.mu.Lock()
	routes := make([]string, 0, len(m.routes))
	for r := range m.routes {
		routes = append(routes, r)
	}
	codes := make([]string, 0, len(m.codes))
	for c := range m.codes {
		codes = append(codes, c)
	}
	m.mu.Unlock()
	sort.Strings(routes)
	sort.Strings(codes)
	fmt.Fprintln(w, "# HELP gognn_request_duration_seconds Request latency by route.")
	fmt.Fprintln(w, "# TYPE gognn_request_duration_seconds histogram")
	for _, r := range routes {
		m.mu.Lock()
		h := m.routes[r]
		m.mu.Unlock()
		var cum int64
		for i, b := range latencyBuckets {
			cum += h.counts[i].Load()
			fmt.Fprintf(w, "gognn_request_duration_seconds_bucket{route=%q,le=\"%g\"} %d\n", r, b, cum)
		}
		cum += h.counts[len(latencyBuckets)].Load()
		fmt.Fprintf(w, "gognn_request_duration_seconds_bucket{route=%q,le=\"+Inf\"} %d\n", r, cum)
		fmt.Fprintf(w, "gognn_request_duration_seconds_sum{route=%q} %g\n", r, float64(h.sumNs.Load())/1e9)
		fmt.Fprintf(w, "gognn_request_duration_seconds_count{route=%q} %d\n", r, h.n.Load())
	}
	fmt.Fprintln(w, "# HELP gognn_requests_total Requests by route and status code.")
	fmt.Fprintln(w, "# TYPE gognn_requests_total counter")
	for _, c := range codes {
		m.mu.Lock()
		v := m.codes[c].Load()
		m.mu.Unlock()
		fmt.Fprintf(w, "gognn_requests_total{%s} %d\n", c, v)
	}
	gauge := func(name, help string, v any) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %v\n", name, help, name, name, v)
	}
	counter := func(name, help string, v any) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %v\n", name, help, name, name, v)
	}
	gauge("gognn_qps", "Requests per second over the last 10 seconds.", m.qps())
	gauge("gognn_index_vectors", "Live vectors in the index.", st.Live)
	gauge("gognn_index_deleted", "Deleted ids waiting for reuse.", st.Deleted)
	gauge("gognn_model_version", "Optimiser steps of the serving model.", st.ModelVersion)
	gauge("gognn_feedback_buffered", "Feedback events in the replay buffer.", st.Events)
	gauge("gognn_feedback_pending_pairs", "Co-relevance pairs waiting for training.", st.PendingEdges)
	counter("gognn_feedback_events_total", "Feedback events received.", st.TotalEvents)
	counter("gognn_feedback_dropped_pairs_total", "Co-relevance pairs dropped at the pending limit.", st.DroppedEdges)
	counter("gognn_rejected_total", "Requests refused with 503: too many in flight.", st.Rejected)
	counter("gognn_trains_total", "Training runs.", m.trains.Load())
	counter("gognn_snapshots_total", "Snapshots written.", st.Snapshots)
	counter("gognn_write_batches_total", "Batches of writes applied (group commit).", m.writeBatches.Load())
	counter("gognn_writes_total", "Write requests applied (adds, puts, deletes).", m.writesCoalesced.Load())
}
