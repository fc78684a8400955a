//go:build gognn_serve

package engine

// trainingBuilt reports whether this build links the training stack (Gorgonia).
const trainingBuilt = false
