// Package nn holds GNN layers as builders of Gorgonia expression graphs: a layer owns its
// parameters (Learnables), and its Forward adds the layer's computation to the graph. A Context
// carries what layers share while a model is built: the expression graph, the dtype, the seeded
// random source for initialisation and dropout, and the training flag.
//
// Gorgonia graphs are built once and run many times, so dropout is a multiplication by a mask
// node whose value the Context redraws before each run (Refresh): the same seed gives the same
// masks and the same training run, bit for bit, and evaluation mode sets every mask to one.
//
// The layers' dense products go through Gorgonia's BLAS, gonum's pure-Go one unless the program
// opts into the project's several times faster SGEMM by calling blas.Use() (package
// github.com/gnnlab/gognn/blas) once at start-up; importing nn changes nothing.
package nn
