// Package models assembles nn layers into published models and trains them.
//
// Node classifiers: GCN (NewGCN), GAT (NewGAT), GATv2 (NewGATv2), GraphSAGE (NewSAGE, with the
// mean, max-pool, sum or LSTM aggregator, over the full graph or over sampled blocks), GIN
// (NewGIN), SGC (NewSGC), APPNP (NewAPPNP), GCNII (NewGCNII) and deep GCN stacks with or
// without residual connections (NewDeepGCN). PublishedSetting returns each paper's architecture
// and training on the citation graphs, BuildPublished builds it, and PublishedNames lists them.
//
// Graph classification: GraphClassifier (Xu et al.'s GIN, or GCN layers, with a readout per
// layer) over batches of graphs (BatchInputs), trained by TrainGraphs, with StratifiedFolds for
// the 10-fold protocol. Link prediction: the graph auto-encoder GAE and its variational form,
// a dot-product or MLP decoder (DotDecoder, MLPDecoder), RandomLinkSplit, TrainLinks and
// LinkMetrics (AUC, AP, Hits@K).
//
// Training: Fit is the one loop under every task. It trains a Problem (any model and loss, full
// graph or mini-batches of nodes, edges or graphs) with Adam (this package's, which computes
// what gorgonia.AdamSolver computes bit for bit but lets the learning rate follow a schedule),
// validates after every epoch, stops early as TrainConfig says (Window: Kipf & Welling's rule
// on the validation loss; Patience: no new best validation loss or accuracy, restoring the best
// epoch's parameters) and reports every epoch to TrainConfig.Progress. Train is full-batch node
// classification and TrainSampled trains on sampled mini-batches, also data-parallel over
// several workers (SampledConfig.Rank and Ranks, package dist). Runs are seeded and
// bit-reproducible.
//
// Trained models are stored as model files (package modelfile): Save and SaveTo write the
// Architecture (GCN, GAT or GraphSAGE) and the parameters, Load and LoadFrom read them back,
// Build rebuilds the model an Architecture describes, and Restore copies the saved values into
// its parameters.
package models
