// Package search is vector search that gets better with use: an HNSW index (package hnsw) whose
// candidates are re-ranked by GNN embeddings computed on the HNSW graph, and a GNN that trains
// online from feedback on the results it showed.
//
//	s, _ := search.New(ix, search.Config{Seed: 1})        // ix: a built hnsw.Index, Cosine metric
//	res, _ := s.Search(search.Query{Vector: q}, 10)       // HNSW candidates, GNN-re-ranked
//	_ = s.Feedback(search.Query{Vector: q}, shown, relevant) // which shown results were relevant
//	st, _ := s.Train()                                    // learn from the replay buffer
//	_ = s.Save(dir)                                       // index.hnsw, model.gnn, gnn.state; search.Load(dir)
//
// # The model
//
// One GraphSAGE-mean layer per edge type, residual in feature space, initialised to the identity:
//
//	h_i = x_i W_root + mean_{j in H(i)} x_j W_hnsw + b_hnsw + mean_{j in F(i)} x_j W_fb + b_fb
//	e_i = normalize(x_i + relu(h_i) W_out)                                  W_out = 0 at start
//
// x_i is node i's unit-norm vector (what the Cosine index stores), H(i) its neighbours on the
// HNSW layer 0, symmetrised, and F(i) its feedback neighbours (below). The two means are
// nn.SAGEConv layers (the feedback one without root weight), W_out an nn.Linear of shape (H, D).
// Search ranks candidates by e_q . e_i. Because W_out starts at zero, e_i = x_i before any
// training and the re-ranking equals plain HNSW (cosine) on the same candidates, up to the last
// bit of near-ties (Cora: precision@10 0.5397 against 0.5402): the model does not start worse
// than the baseline, and the residual keeps the raw similarity in reach throughout.
// The embedding stays in feature space (dimension D) rather than a smaller learned space for the
// same reason. Defaults: H = 64, 100 candidates.
//
// A query is a new node: it links to its QueryDegree (16) nearest HNSW candidates, and the same
// layer embeds it from its vector and theirs, which is why the layer must be inductive
// (GraphSAGE; GAT would do too). The edges point from the candidates to the query only, so a
// query changes no corpus embedding and needs no write.
//
// One layer is a deliberate choice: a node's embedding depends only on its own and its
// neighbours' features, so a refresh is exact and local (Add re-embeds the new nodes and the
// nodes whose layer-0 lists the insertion changed, and gets the same bits as a full
// recomputation; TestAddRefreshesIncrementally), a query costs one small forward pass, and
// training batches need one hop of neighbours. After a training step every weight has changed,
// so Train recomputes all corpus embeddings; on Cora (2708 x 1433, sparse, 25 neighbours per node
// on average) that takes about 40 ms, against 1.0-1.6 s for the 20 steps (two shared cores).
// When Train only adds feedback edges (no event to learn from yet), it re-embeds just the nodes
// whose feedback lists changed.
//
// # Learning from feedback
//
// Feedback(q, shown, relevant) stores an event (the query's features and neighbours, the shown
// ids, the judgements) in a bounded replay buffer (a ring of BufferSize = 4096 events; the
// oldest is dropped). Train makes Steps (20) Adam steps, each on BatchSize (32) events drawn
// uniformly, without replacement, from the buffered events that have at least one relevant and
// one irrelevant result, minimising the pairwise logistic (RankNet / BPR-style) loss
//
//	L = mean over events, relevant p, shown-but-irrelevant n:  softplus((e_q.e_n - e_q.e_p) / τ)
//
// with τ = 0.05: relevant results are pulled towards their query, irrelevant ones pushed away,
// and only the order within what the user judged is used; nothing is assumed about results the
// user never saw. A step builds one bipartite block (graph.Block layout): the batch's queries as
// new nodes and the distinct shown results as destinations, their neighbours as the other
// sources, the features kept sparse (nn.SparseFeatures; Cora's rows are 1.3% non-zero) through
// the first layer. The graph is rebuilt per step in a context from nn.Context.Next over the same
// parameters. Adam is implemented here (model.go) rather than taken from Gorgonia, so that its
// moments are saved with the index and a loaded index continues training bit for bit as the
// original would have.
//
// Feedback edges: two results judged relevant to the same query become neighbours in the
// feedback graph F (co-relevance), applied at the next Train; a node keeps its FeedbackDegree
// (32) newest feedback neighbours. They let a corpus node's embedding borrow from the nodes users
// found relevant alongside it. On Cora they changed held-out precision by less than the
// seed-to-seed noise (0.734 with, 0.730 without, seed 1); they stay on by default because they
// cost little and carry information the features do not, and FeedbackDegree < 0 turns them off.
//
// # Serving
//
// Queries do not build Gorgonia graphs: the serving path is the same formula in plain Go over an
// immutable snapshot of the weights (weights.embed, with the ops/asm axpy and dot kernels), which
// TestForwardAgrees checks against the Gorgonia graph that training differentiates. Train
// optimises the stored parameters, computes the new embedding table and then swaps weights,
// table and feedback graph in under a short write lock, so searches run during training and see
// either the old model or the new one. Writes (Add, Delete, Update) run one at a time, or many
// as one Batch (Begin, then Commit: one refresh, the nodes several writes touch re-embedded
// once, the same state as the writes one by one; TestBatchEqualsSequence), and
// install only the rows they change, under a short lock that searches share (a search holds it
// only after its HNSW part); they do not wait for Train's optimiser steps nor its re-embedding,
// which work on copies of the tables, the nodes that writes changed meanwhile being embedded
// again before the swap. SetBackground moves that work to low-priority threads, so that a
// server's requests keep the CPU. Save waits for Train and for writes.
// Everything is seeded: the same Config, index, feedback and calls give the same model, bit for
// bit (TestTrainingIsDeterministic).
//
// # Persistence
//
// Save(dir) writes three files, each atomically: dir/index.hnsw (hnsw.Index.Save); dir/model.gnn,
// the GNN's weights and Adam's moments in the framework's model file format (package modelfile:
// a self-describing header, ModelArchitecture, and a checksum per tensor; modelfile.Read reads
// it like any other model); and dir/gnn.state, a versioned, CRC-32C checksummed file (format in
// persist.go) with the sampler's state, the feedback graph, the replay buffer, the feedback not
// yet trained on and the checksums of the two other files. A crash between the renames leaves
// files that Load rejects as coming from different saves. Load recomputes the embeddings, which reproduces the
// saved index's rankings exactly (TestSaveLoadRoundTrip).
//
// # Measured
//
// go run ./experiments/search: Cora features (2708 vectors, 1433 dimensions), relevance = same
// class, 1000 held-out queries, training after every 50 feedback queries with the top 10 judged,
// seed 1: held-out precision@10 rose from 0.540 (plain HNSW, ef = 100, and exact cosine k-NN
// alike) to 0.734 after 1000 feedback queries and 0.759 after 2000 (nDCG@10 0.568 to 0.740 and
// 0.762).
// A perfect re-ranking of the same candidates would reach 0.99, so the limit is what the model
// generalises from features and feedback to unseen queries, not the HNSW candidates.
//
// # Limits
//
// The index must use the Cosine metric (with L2 or inner product the untrained re-ranking would
// not equal the HNSW ranking). Re-ranking cannot return what HNSW did not find among its
// Candidates. Delete and Update refresh the graph, the feedback state and the embeddings as
// exactly as Add does (Delete and UpdateBatch take many ids for one refresh); the wrapped hnsw.Index is owned by the search.Index and refuses direct
// changes. Feedback edges assume that results relevant to one query are
// related to each other, which holds for topical relevance but not for every notion of it.
package search
