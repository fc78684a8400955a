// Package ops holds the sparse graph operations of the framework as Gorgonia operations, each
// with a forward and a backward pass (so gorgonia.Grad and the tape machine work through it),
// for float32 and float64 tensors:
//
//   - edge-level ops, the general message-passing path: GatherSrc and GatherDst (node rows onto
//     edges), ScatterSum, ScatterMean and ScatterMax (edge rows onto destinations), EdgeSoftmax,
//     EdgeScores and EdgeWeightedAggregate (attention-weighted sums), and HeadDot (per-head dot
//     products with attention vectors, the score of GAT-like layers);
//   - index ops over an index input that may change between runs without rebuilding the graph
//     (NewIndex, SetIndex): IndexSelect and its inverse ScatterAdd, and segment pooling for
//     batched graphs, SegmentSum, SegmentMean and SegmentMax;
//   - neighbour aggregation in one pass: SumAggregate, MeanAggregate, MaxAggregate,
//     WeightedAggregate and SparseMatMul;
//   - fused layer steps where Gorgonia's generic graph costs passes and temporaries:
//     GCNPropagate (normalised propagation, self-loop and bias), SAGEPropagate (aggregation, root
//     and bias of a SAGE layer), GATSoftmax (logits, LeakyReLU and edge softmax), LSTMSequence,
//     and the one-pass MatMul, AddBias, Add, ReLU, LeakyReLU and LogSoftmax.
//
// The inner loops are the SIMD kernels of package ops/asm. Work is split over output rows across
// up to GOMAXPROCS goroutines (SetMaxWorkers lowers it): destination rows balanced by edge count
// (graph.CSR.Partition) for aggregations and scatters, item ranges for gathers. Every output
// element is computed by one goroutine in a fixed order, so results are bit-identical for any
// number of workers. A scatter runs as a gather split by output row over a grouping of its
// inputs: a graph's transpose (graph.CSR.Transpose, built once per graph) for the gradient of
// GatherSrc and of the aggregations, its own rows for ScatterSum, a stable counting sort of the
// index input for ScatterAdd and the index ops' gradients, kept while the index is unchanged
// (a new index is swept in order instead); never atomics. The one exception is
// MaxAggregate's gradient, which splits the feature columns over the workers instead (the
// columns never conflict), with the same bits for any worker count.
//
// Every op writes each run's output into the tensor of its previous run (or the machine's
// preallocated register), so running a compiled graph again allocates almost nothing. As with
// Gorgonia's register reuse, a node's value is therefore valid until the graph's next run: copy
// it (gorgonia.CloneValue) to keep it longer, and run machines over one graph one at a time.
//
// BLAS: MatMul and LSTMSequence call the BLAS that Gorgonia uses, gorgonia.WhichBLAS, the one
// path to BLAS in this package. It is gonum's pure-Go implementation unless the program chooses
// another with gorgonia.Use (package blas provides this project's SGEMM); ops never installs one.
//
// Every exported op passes one contract, checked by the package's tests for each of them: a
// float64 reference, a finite-difference gradient, identical outputs and gradients for 1, 2, 3
// and 8 workers, identical second runs and runs after Reset into the same output buffer, and
// errors, not panics, for bad shapes, dtypes and indices.
package ops
