//go:build gognn_serve

package engine

import "errors"

// trainingBuilt reports whether this build links the training stack (Gorgonia).
const trainingBuilt = false

var errNoModels = errors.New("this is the serving build (gognn-serve.wasm, tag gognn_serve), which runs GNN models' inference through Gorgonia's graphs and so leaves them out; load models with the full build (gognn.wasm or the native engine)")

func (e *Engine) loadModel(*reader) ([]byte, error) { return nil, errNoModels }

func (e *Engine) embed(*reader) ([]byte, error) { return nil, errNoModels }
