// Package ops holds sparse neighbour aggregation as Gorgonia operations: sum, mean, max and
// weighted sums (with constant or differentiable edge weights) of source-node feature rows into
// destination rows over a graph.CSR. Each op has a forward pass and a backward pass, so
// gorgonia.Grad and the tape machine work through it, for float32 and float64 tensors.
//
// Where Gorgonia's generic graph costs passes and temporaries, layers' steps are fused into ops
// of their own: GCNPropagate (normalised propagation, self-loop and bias), SAGEPropagate
// (aggregation, root and bias of a SAGE layer), GATSoftmax (logits, LeakyReLU and edge softmax),
// and the one-pass element-wise ReLU and AddBias.
//
// The inner loops are the SIMD kernels of package ops/asm. Work is split over destination rows
// balanced by edge count (graph.CSR.Partition) across up to GOMAXPROCS goroutines; every output
// element is computed by one goroutine in a fixed order, so results are bit-identical for any
// number of workers. Backward passes are themselves gathers over the reversed graph
// (graph.CSR.Transpose), never scatters with atomics.
//
// An op writes each run's output into the tensor of its previous run, so running a compiled
// graph again allocates almost nothing. As with Gorgonia's register reuse, a node's value is
// therefore valid until the graph's next run: copy it (gorgonia.CloneValue) to keep it longer,
// and run machines over one graph one at a time.
package ops
