// Package nn holds GNN layers as builders of Gorgonia expression graphs: a layer owns its
// parameters (Learnables), and its Forward adds the layer's computation to the graph. A Context
// carries what layers share while a model is built: the expression graph, the dtype, the seeded
// random source for initialisation and dropout, the training flag, and the parameters by name
// (Context.Param, with the initialisers Glorot, Zeros, Ones, Constant, Uniform and Normal), so
// that a model rebuilt in Context.Next, for every sampled mini-batch, trains the same weights.
//
// # One layer interface
//
// Every layer is a Layer, Forward(a, x) over a graph a (graph.CSR) and a node matrix x; layers
// that do not read the graph (Linear, Func(ReLU), Dropout, LayerNorm, BatchNorm, MLP) accept a
// nil graph, and those that do (GraphLayer: GCNConv, GATConv, SAGEConv, GATv2Conv, GINConv,
// TransformerConv, SGC, APPNP, GCNIIConv and the GCNII stack, MessagePassing, LSTM) map the
// a.NumSrc source rows to a.NumDst destination rows. Sequential is a list of layers, run over a whole graph, over sparse input features
// (FeaturesLayer: the first projecting layer multiplies only their nonzeros) or over the
// blocks of a sampled mini-batch, one block per graph layer.
//
// # Message passing
//
// MessagePassing writes a layer as a message function over the source rows, destination rows
// and edge attributes of every edge (Edges), an aggregation (sum, mean, max, softmax attention,
// LSTM) and an update, as PyTorch Geometric's MessagePassing and DGL's update_all; it lowers
// to the gather and scatter ops of package ops, and to their fused kernels where the message is
// a plain or weighted source row. With GCNNorm it runs over the GCN normalisation of the graph,
// and the GCN message (source rows weighed by it, summed) is ops.GCNPropagate. GATv2Conv,
// GINConv (and GINE), TransformerConv, SGC, APPNP and GCNII are written on it.
//
// # Runs
//
// Gorgonia graphs are built once and run many times, so dropout is a multiplication by a mask
// node whose value the Context redraws before each run (Refresh): the same seed gives the same
// masks and the same training run, bit for bit, and evaluation mode sets every mask to one.
// BatchNorm switches between batch and running statistics the same way. Layers derive what
// they need from a graph (its normalisation, its self-loops) on the first Forward over it and
// cache it: a graph.CSR is immutable once built.
//
// The layers' dense products go through Gorgonia's BLAS, gonum's pure-Go one unless the program
// opts into the project's several times faster SGEMM by calling blas.Use() (package
// github.com/gnnlab/gognn/blas) once at start-up; importing nn changes nothing.
package nn
