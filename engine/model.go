package engine

import (
	"bytes"
	"fmt"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/infer"
)

// Models run on package infer's plain-Go forward pass in every build, with or without the
// training stack; its tests hold it to the Gorgonia models' outputs.

// loadModel: the bytes of a model file that models.Save wrote (GCN, GraphSAGE or GAT) -> u32
// handle.
func (e *Engine) loadModel(r *reader) ([]byte, error) {
	m, err := infer.Load(bytes.NewReader(r.rest()))
	if err != nil {
		return nil, fmt.Errorf("loadModel: %w", err)
	}
	return e.put(m), nil
}

// embed: u32 handle, u32 nodes, u32 edges, u32 features, i32[nodes+1] rowPtr, i32[edges]
// colIdx (the graph in CSR by destination: the in-edges of node i are colIdx[rowPtr[i]:
// rowPtr[i+1]]), f32[nodes*features] -> u32 nodes, u32 classes, f32[nodes*classes], the
// model's output (logits) in evaluation mode.
func (e *Engine) embed(r *reader) ([]byte, error) {
	h := r.u32("handle")
	n, m, f := r.count("nodes"), r.count("edges"), r.count("features")
	rowPtr := r.i32s(n+1, "rowPtr")
	colIdx := r.i32s(m, "colIdx")
	x := r.f32s(n*f, "features")
	if err := r.done("embed"); err != nil {
		return nil, err
	}
	v, err := e.get(h, "embed")
	if err != nil {
		return nil, err
	}
	md, ok := v.(*infer.Model)
	if !ok {
		return nil, fmt.Errorf("embed: handle %d is an index, not a model", h)
	}
	if f != md.Arch.In {
		return nil, fmt.Errorf("embed: %d features per node, the model takes %d", f, md.Arch.In)
	}
	if _, err := vectors(x, max(f, 1), "embed"); err != nil {
		return nil, err
	}
	g, err := csrGraph(n, rowPtr, colIdx)
	if err != nil {
		return nil, fmt.Errorf("embed: %w", err)
	}
	out, err := md.Forward(g, x)
	if err != nil {
		return nil, fmt.Errorf("embed: %w", err)
	}
	var w writer
	w.u32(uint32(n))
	w.u32(uint32(md.Arch.Classes))
	w.f32s(out)
	return w.b, nil
}

// csrGraph checks the CSR arrays of a graph of n nodes and builds it (graph.FromEdges
// validates and sorts the edges).
func csrGraph(n int, rowPtr, colIdx []int32) (*graph.CSR, error) {
	if rowPtr[0] != 0 || int(rowPtr[n]) != len(colIdx) {
		return nil, fmt.Errorf("rowPtr must start at 0 and end at the number of edges (%d); it runs from %d to %d", len(colIdx), rowPtr[0], rowPtr[n])
	}
	src := make([]int, 0, len(colIdx))
	dst := make([]int, 0, len(colIdx))
	for i := 0; i < n; i++ {
		if rowPtr[i+1] < rowPtr[i] {
			return nil, fmt.Errorf("rowPtr decreases at node %d (%d > %d)", i, rowPtr[i], rowPtr[i+1])
		}
		for _, j := range colIdx[rowPtr[i]:rowPtr[i+1]] {
			src = append(src, int(j))
			dst = append(dst, i)
		}
	}
	return graph.FromEdges(n, src, dst)
}
