// Package engine is the Go side of the JavaScript package (js/): a table of handles (search
// indexes that learn from feedback, plain HNSW indexes, models loaded from model files) driven
// by one binary request/response protocol. The same code answers in the browser and in Node
// through WebAssembly (cmd/gognn-wasm) and in the native engine, a child process speaking the
// protocol over stdio (cmd/gognn-engine).
//
// A request is an op byte followed by its fields, little-endian: u32 and u64 integers, and
// arrays as a u32 count then the elements (f32 for vectors, i32 for ids), so JavaScript's
// Float32Array and Int32Array cross as bytes, never as JSON. A response is a status byte,
// StatusOK then the op's result, or StatusError then a UTF-8 message that names what was
// wrong. Each op's layout is in the doc comment of its method. Small results (stats, training
// reports, info) are JSON.
//
// Models (GCN, GraphSAGE, GAT from model files that models.Save wrote) run on package infer's
// plain-Go forward pass in every build. Built with the tag gognn_serve (together with package
// search), the engine does not link Gorgonia: indexes search, take feedback, save and load,
// models load and embed, but OpTrain answers with search.ErrNoTraining's message.
package engine
