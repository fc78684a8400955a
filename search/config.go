package search

import (
	"fmt"
	"math"
)

// Config holds the parameters of the GNN re-ranker. Zero values select the defaults.
type Config struct {
	// Hidden is the width H of the GNN layer, default 64.
	Hidden int
	// Candidates is the number of HNSW candidates re-ranked per query (the ef of the HNSW search
	// that finds them), default 100. Search returns at most this many results.
	Candidates int
	// QueryDegree is the number of nearest candidates a query links to when it joins the graph
	// as a new node, default 16 (the M of a default HNSW index).
	QueryDegree int
	// BufferSize is the capacity of the replay buffer in feedback events (one query with its
	// judged results each); the oldest event is dropped when it is full. Default 4096.
	BufferSize int
	// FeedbackDegree is the most feedback neighbours a corpus node keeps (co-relevance edges);
	// the oldest is dropped when a new one arrives. Default 32. Negative disables feedback edges.
	FeedbackDegree int
	// Steps is the number of optimiser steps one Train call makes, default 20.
	Steps int
	// BatchSize is the number of feedback events per step, sampled uniformly from the events in
	// the buffer that have both a relevant and an irrelevant result, default 32.
	BatchSize int
	// LearningRate is Adam's step size, default 0.002.
	LearningRate float64
	// Temperature τ scales the pairwise logistic loss softplus((s_neg - s_pos)/τ) over cosine
	// similarities s, default 0.05.
	Temperature float64
	// Seed seeds the weights and the replay sampling: the same Config, index, feedback and calls
	// give the same model, bit for bit.
	Seed uint64
	// PendingEdges bounds the co-relevance pairs that feedback produces and the next Train
	// applies to the feedback graph; beyond it the oldest are dropped and counted in
	// Stats.DroppedEdges, so a caller that never trains cannot exhaust memory. 0 selects
	// DefaultPendingEdges (kept 0 here, so it is not saved: a loaded index uses the default).
	PendingEdges int
}

// pendingLimit returns PendingEdges with the default applied.
func (c Config) pendingLimit() int {
	if c.PendingEdges == 0 {
		return DefaultPendingEdges
	}
	return c.PendingEdges
}

// Defaults used for zero fields.
const (
	DefaultHidden         = 64
	DefaultCandidates     = 100
	DefaultQueryDegree    = 16
	DefaultBufferSize     = 4096
	DefaultFeedbackDegree = 32
	DefaultSteps          = 20
	DefaultBatchSize      = 32
	DefaultLearningRate   = 0.002
	DefaultTemperature    = 0.05
	DefaultPendingEdges   = 1 << 16
)

// Limits keep a bad value from exhausting memory.
const (
	MaxHidden     = 4096
	MaxCandidates = 1 << 16
	MaxBufferSize = 1 << 24
	MaxDegree     = 1 << 12
)

func (c Config) withDefaults() (Config, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Hidden, DefaultHidden)
	def(&c.Candidates, DefaultCandidates)
	def(&c.QueryDegree, DefaultQueryDegree)
	def(&c.BufferSize, DefaultBufferSize)
	def(&c.FeedbackDegree, DefaultFeedbackDegree)
	def(&c.Steps, DefaultSteps)
	def(&c.BatchSize, DefaultBatchSize)
	if c.LearningRate == 0 {
		c.LearningRate = DefaultLearningRate
	}
	if c.Temperature == 0 {
		c.Temperature = DefaultTemperature
	}
	if c.FeedbackDegree < 0 {
		c.FeedbackDegree = -1
	}
	for _, p := range []struct {
		name   string
		v, max int
	}{
		{"Hidden", c.Hidden, MaxHidden},
		{"Candidates", c.Candidates, MaxCandidates},
		{"QueryDegree", c.QueryDegree, MaxDegree},
		{"BufferSize", c.BufferSize, MaxBufferSize},
		{"Steps", c.Steps, 1 << 20},
		{"BatchSize", c.BatchSize, 1 << 16},
		{"PendingEdges", c.pendingLimit(), MaxBufferSize},
	} {
		if p.v < 1 || p.v > p.max {
			return c, fmt.Errorf("search: Config.%s = %d: want 1 <= %s <= %d (0 selects the default)", p.name, p.v, p.name, p.max)
		}
	}
	if c.FeedbackDegree > MaxDegree {
		return c, fmt.Errorf("search: Config.FeedbackDegree = %d: want at most %d (negative disables feedback edges)", c.FeedbackDegree, MaxDegree)
	}
	if c.QueryDegree > c.Candidates {
		return c, fmt.Errorf("search: Config.QueryDegree = %d exceeds Candidates = %d: the query links to its nearest candidates", c.QueryDegree, c.Candidates)
	}
	if !(c.LearningRate > 0) || math.IsInf(c.LearningRate, 0) {
		return c, fmt.Errorf("search: Config.LearningRate = %v: want a finite value > 0", c.LearningRate)
	}
	if !(c.Temperature > 0) || math.IsInf(c.Temperature, 0) {
		return c, fmt.Errorf("search: Config.Temperature = %v: want a finite value > 0", c.Temperature)
	}
	return c, nil
}
