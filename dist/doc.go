// Package dist trains the framework's models past one process: data-parallel training over
// MPI, with graphs partitioned by METIS, in the way DistDGL and PyTorch Geometric's
// torch_geometric.distributed do it on gloo or NCCL.
//
// # Transport
//
// A Comm is the group of processes training one model, with the few collectives training
// needs: all-reduce sums of float32 and float64 buffers, broadcast, all-gather, all-to-all,
// barrier. Local (one process, every collective the identity) is the default, so a training
// loop has one code path alone or under mpirun; NewGroup makes an in-memory group of
// goroutines for tests. Built with -tags mpi (cgo and Debian's libopenmpi-dev), Open returns
// MPI's world when the process was started by mpirun. The binding is this package's own,
// a dozen C calls: every call runs on one goroutine locked to the OS thread that initialised
// MPI (MPI_THREAD_FUNNELED), errors come back as Go errors (MPI_ERRORS_RETURN) rather than
// aborting the job, and every collective is bounded in time. The default build needs neither
// cgo nor MPI.
//
// # Training
//
// Every rank builds the same model from the same seed; AverageGradients, set as
// models.TrainConfig.Sync, replaces each step's gradients by their average over the ranks,
// weighted by each rank's seed count, so every rank takes the same Adam step and holds the
// same weights (checked on the first step). Two modes:
//
//   - replicated: every rank holds the whole graph (models.TrainSampled with SampledConfig.Rank
//     and Ranks): the ranks deal the same shuffled mini-batches and each trains on its share of
//     every batch. Simple; the graph must fit one machine.
//   - partitioned: Split cuts the graph by a partition Book into Parts (own nodes with their
//     features and labels, plus the halo that the sampling layers reach, without features),
//     written to checksummed files by rank 0 and loaded by each rank (Part.Save, LoadPart);
//     TrainPartitioned trains each rank on its own training nodes and fetches the feature rows
//     of the halo nodes it samples from their owners, with two all-to-alls per step.
//
// Partitions come from METIS (Metis, through the gpmetis command of Debian's metis package)
// or, without it, from Contiguous, the edge-balanced ranges of graph.CSR.Partition, which
// balance work but ignore the cut.
//
// # Communication, measured, and what changes with 8 or 64 machines
//
// The gradient all-reduce moves a fixed volume per step whatever the graph: each rank hands MPI
// 4 bytes per parameter (plus a 24-byte header), and a ring all-reduce sends and receives about
// twice that per rank whatever the number of ranks. Measured with experiments/distributed, two
// ranks on one machine:
//
//   - Cora, GraphSAGE 1433 -> 64 -> 7 (184,391 parameters), replicated: 737,588 bytes per step
//     and rank, all of it gradients; partitioned with METIS: about 0.84 MB, of which about
//     0.10 MB are halo features fetched from the other rank.
//   - the generated graph of 1,000,000 nodes and 16,000,000 edges (64 features, hidden 64, 16
//     classes: 10,320 parameters, 41 KB of gradients), partitioned: 3.7 MB per step and rank
//     with METIS, which cuts 10.0% of the edges, and 10.6 MB with contiguous ranges, which cut
//     50.0%. Here the fetched features (256 bytes per sampled remote node) dominate.
//
// With 8 or 64 machines the gradient volume per rank stays the same while each rank's share of
// a fixed global batch shrinks, so the all-reduce's share of a step grows: at some point a
// larger global batch, or gradients all-reduced in float16 or overlapped with the backward
// pass, pays. The feature traffic grows with the cut, which grows with the number of parts
// (METIS keeps it lowest); features stay with their owners, and a cache of the most sampled
// remote rows is the next saving. Every rank here also holds its whole partition in memory;
// partitions larger than memory would be memory-mapped (package modelfile's matrices).
//
// # Failure
//
// MPI as shipped (Open MPI 4.1) cannot repair a group that lost a member, so a run fails as a
// whole and restarts: when a rank dies, mpirun ends every other rank and names the dead one; a
// rank whose training returns an error calls Comm.Abort, which does the same, rather than
// leaving its peers in a collective it will never join; and a collective that does not
// complete within its bound returns an error as a last resort. A run restarts from the last
// model file rank 0 wrote (models.Save; experiments/distributed -save): rank 0 restores it
// (models.Load, models.Restore) and BroadcastParams gives every rank its weights, while the
// optimiser's moments start again. The experiment has no resume flag yet; these are the pieces.
package dist
