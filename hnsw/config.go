package hnsw

import (
	"fmt"
	"math"
)

// Metric selects the distance an index ranks by. Smaller is closer for every metric.
type Metric uint8

const (
	// L2 is the squared Euclidean distance d(a, b) = sum_i (a_i - b_i)^2.
	L2 Metric = iota
	// Cosine is the cosine distance d(a, b) = 1 - a.b / (|a| |b|). Vectors (stored and query) are
	// normalised to unit length, so it is computed as 1 - a.b; zero vectors are rejected.
	Cosine
	// InnerProduct ranks by the inner product, largest first: d(a, b) = -a.b. It is not a metric
	// (d(a, a) is not the minimum), so graph search is a heuristic for maximum inner product
	// search; recall depends on the norms in the data.
	InnerProduct
)

// String returns the metric's name: "l2", "cosine" or "ip".
func (m Metric) String() string {
	switch m {
	case L2:
		return "l2"
	case Cosine:
		return "cosine"
	case InnerProduct:
		return "ip"
	}
	return fmt.Sprintf("Metric(%d)", uint8(m))
}

func (m Metric) valid() bool { return m <= InnerProduct }

// Defaults used by New for parameters left at zero.
const (
	DefaultM              = 16
	DefaultEfConstruction = 200
	DefaultEfSearch       = 64
)

// Limits on the parameters, so that a bad value is reported instead of exhausting memory.
const (
	MaxDim = 1 << 16 // largest vector dimension
	MaxM   = 1024    // largest M (layer 0 holds up to 2*M neighbours)
	MaxEf  = 1 << 20 // largest efConstruction or ef
	// maxLevel caps the random level: with M >= 2 a level above 64 has probability < 2^-60.
	maxLevel = 64
)

// Config holds an index's parameters. Zero values (except Dim) select the defaults.
type Config struct {
	// Dim is the vector dimension, 1 <= Dim <= MaxDim. Required.
	Dim int
	// Metric is the distance; the zero value is L2.
	Metric Metric
	// M is the number of neighbours a new node links to on each layer, and the most neighbours a
	// node keeps on layers above 0; layer 0 keeps up to 2*M. 2 <= M <= MaxM, default 16. The level
	// multiplier is mL = 1/ln(M): a node reaches layer l with probability M^-l.
	M int
	// EfConstruction is the size of the candidate list searched when inserting (efConstruction in
	// the paper), default 200. Values below M are raised to M.
	EfConstruction int
	// EfSearch is the candidate-list size Search uses when called with ef = 0, default 64.
	EfSearch int
	// KeepPruned enables keepPrunedConnections of Algorithm 4 (Malkov & Yashunin): after the
	// heuristic has chosen its diverse neighbours, the closest discarded candidates fill the list
	// up to its capacity. Off by default, as in hnswlib, whose heuristic keeps only the diverse set.
	KeepPruned bool
	// Seed seeds the level generator (PCG). Two indexes built with the same Config and the same
	// vectors added in the same order are identical, bit for bit (for Cosine and InnerProduct:
	// when both use the same ops/asm backend; see the package documentation).
	Seed uint64
}

// withDefaults validates cfg and fills the zero fields.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Dim <= 0 || cfg.Dim > MaxDim {
		return cfg, fmt.Errorf("hnsw: Config.Dim = %d: want 1 <= Dim <= %d", cfg.Dim, MaxDim)
	}
	if !cfg.Metric.valid() {
		return cfg, fmt.Errorf("hnsw: Config.Metric = %d: want hnsw.L2, hnsw.Cosine or hnsw.InnerProduct", uint8(cfg.Metric))
	}
	if cfg.M == 0 {
		cfg.M = DefaultM
	}
	if cfg.M < 2 || cfg.M > MaxM {
		return cfg, fmt.Errorf("hnsw: Config.M = %d: want 2 <= M <= %d (0 selects %d)", cfg.M, MaxM, DefaultM)
	}
	if cfg.EfConstruction == 0 {
		cfg.EfConstruction = DefaultEfConstruction
	}
	if cfg.EfConstruction < 0 || cfg.EfConstruction > MaxEf {
		return cfg, fmt.Errorf("hnsw: Config.EfConstruction = %d: want 1 <= EfConstruction <= %d (0 selects %d)", cfg.EfConstruction, MaxEf, DefaultEfConstruction)
	}
	if cfg.EfConstruction < cfg.M {
		cfg.EfConstruction = cfg.M
	}
	if cfg.EfSearch == 0 {
		cfg.EfSearch = DefaultEfSearch
	}
	if cfg.EfSearch < 0 || cfg.EfSearch > MaxEf {
		return cfg, fmt.Errorf("hnsw: Config.EfSearch = %d: want 1 <= EfSearch <= %d (0 selects %d)", cfg.EfSearch, MaxEf, DefaultEfSearch)
	}
	return cfg, nil
}

// levelMult returns mL = 1/ln(M).
func levelMult(m int) float64 { return 1 / math.Log(float64(m)) }
