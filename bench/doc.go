// Package bench measures the framework's GNN workloads on a seeded random graph: one op per row,
// each a Gorgonia graph compiled once into a tape machine and re-run (Reset between runs), timed
// as the median (p50) and minimum of Config.Repeat runs after Config.Warmup warm-up runs.
//
// The rows (Ops), on N nodes with exactly Deg in-neighbours each (graph.Random), F = 128 float32
// input features, E = N*Deg edges and E' = E+N edges once self-loops are added:
//
//	aggregate_mean    mean of the in-neighbours' 128 features (ops.MeanAggregate)
//	gcn_forward       nn.GCNConv 128->64: x W, then sum over in-edges and self-loops weighted
//	                  d_i^-1/2 d_j^-1/2, plus bias
//	gat_forward       nn.GATConv 8 heads x 8 concatenated (64), self-loops, LeakyReLU 0.2,
//	                  softmax over each node's incoming edges
//	gatv2_forward     GATv2 8 heads x 8 concatenated (64), self-loops, written on the edge-level
//	                  ops: x W_l, x W_r, GatherSrc + GatherDst, Add, LeakyReLU 0.2, per-head
//	                  scores (one product with a block-diagonal matrix of the attention
//	                  vectors), EdgeSoftmax, EdgeWeightedAggregate, bias
//	gin_forward       GIN with eps 0 on the edge-level ops, ScatterSum(GatherSrc(x)) + (1+eps) x,
//	                  then the MLP 128->64->64 (ReLU between)
//	sage2_forward     two nn.SAGEConv mean layers 128->64->64, each lin_l(mean of neighbours) +
//	                  lin_r(self), ReLU between
//	gcn2_train_step   GCN 128->64->16, ReLU between, cross-entropy over all nodes against fixed
//	                  random labels, backward, one Adam step
//	sage2_train_step  the same with two SAGE-mean layers 128->64->16
//
// FLOPs are counted analytically (FLOPs), one multiply-add as two FLOPs, for the cheapest order
// of each layer's arithmetic (project before aggregating when that is narrower):
//
//	dense x W (n x k times k x m)          2 n k m
//	weighted sum over e edges of width f    2 e f      (mean: weights 1/deg)
//	bias, ReLU, residual add (n x m)        n m
//	GAT attention (E' edges, H heads)       node scores 2 * 2 N HF, edge logit + LeakyReLU
//	                                        2 E' H, softmax (max, exp, sum, divide) 4 E' H
//	cross-entropy over C classes            5 N C (max, exp, sum, log, pick) forward
//	backward of x W                         2 n k m for dW, plus 2 n k m for dx unless x is
//	                                        the input features
//	backward of an aggregation              as its forward; of bias and ReLU, n m each
//	Adam                                    10 flops per parameter
//
// Peak memory is measured in a separate process per op (experiments/bench/child, a small
// command that calls RunChild; see PeakRSS), so one op's allocations do not hide another's, and
// covers everything that process touched: inputs, graph, outputs, temporaries, the runtime and
// the code that ran. Package bench does not import the plotting library (benchplot draws a
// Report), so the child does not load it.
package bench
