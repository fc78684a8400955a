package dist

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"slices"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/internal/persist"
)

// Part is one partition of a node-classification graph as the rank that owns it holds it, as
// DistDGL's partitions: the partition's own nodes with their features and labels, and the halo
// (the nodes within Hops in-edges of an own node that another partition owns) with their
// structure but not their features, which the rank fetches from their owners when a sampled
// mini-batch needs them.
type Part struct {
	Index, Parts int
	Hops         int
	// Nodes are the global ids of the local nodes: the Owned own nodes first, in increasing
	// order, then the halo nodes in increasing order. Local id k is Nodes[k].
	Nodes []int32
	Owned int
	// Owner is the partition that owns each local node.
	Owner []int32
	// Graph is the subgraph induced by the local nodes, over local ids: complete for the own
	// nodes and the halo within Hops-1 in-edges of them, so sampling up to Hops layers from an
	// own node never leaves it.
	Graph *graph.CSR
	// Features are the own nodes' feature rows, Dim wide, row-major.
	Features []float32
	Dim      int
	// Labels are the own nodes' labels; Train the local ids of the own training nodes.
	Labels []int32
	Train  []int32
}

// Split cuts a graph with features (n x dim, row-major), labels and training nodes into the
// partitions of book, each with the halo that Hops sampling layers reach.
func Split(g *graph.CSR, book *Book, feats []float32, dim int, labels []int, train []int, hops int) ([]*Part, error) {
	n := g.NumDst
	switch {
	case g.NumSrc != n:
		return nil, fmt.Errorf("dist: split a graph, not a %d x %d bipartite block", g.NumSrc, n)
	case len(book.Owner) != n:
		return nil, fmt.Errorf("dist: partition book of %d nodes for a graph of %d", len(book.Owner), n)
	case dim <= 0 || len(feats) != n*dim:
		return nil, fmt.Errorf("dist: %d feature values for %d nodes of dimension %d", len(feats), n, dim)
	case len(labels) != n:
		return nil, fmt.Errorf("dist: %d labels for %d nodes", len(labels), n)
	case hops < 1:
		return nil, fmt.Errorf("dist: halo of %d hops, want at least 1", hops)
	}
	isTrain := make([]bool, n)
	for _, v := range train {
		if v < 0 || v >= n {
			return nil, fmt.Errorf("dist: training node %d out of range [0, %d)", v, n)
		}
		isTrain[v] = true
	}
	parts := make([]*Part, book.Parts)
	mark := make([]int32, n) // partition index + 1 of the last BFS that reached a node
	for p := range parts {
		own := book.Nodes(p)
		local := make([]int, 0, len(own))
		local = append(local, own...)
		for _, v := range own {
			mark[v] = int32(p + 1)
		}
		frontier := own
		var halo []int
		for h := 0; h < hops; h++ {
			var next []int
			for _, v := range frontier {
				src, _ := g.Row(v)
				for _, u := range src {
					if mark[u] != int32(p+1) {
						mark[u] = int32(p + 1)
						next = append(next, int(u))
					}
				}
			}
			halo = append(halo, next...)
			frontier = next
		}
		slices.Sort(halo)
		local = append(local, halo...)
		sub, err := g.Subgraph(local)
		if err != nil {
			return nil, err
		}
		pt := &Part{Index: p, Parts: book.Parts, Hops: hops, Owned: len(own), Graph: sub, Dim: dim,
			Nodes: make([]int32, len(local)), Owner: make([]int32, len(local)),
			Features: make([]float32, 0, len(own)*dim), Labels: make([]int32, len(own))}
		for k, v := range local {
			pt.Nodes[k], pt.Owner[k] = int32(v), book.Owner[v]
		}
		for k, v := range own {
			pt.Features = append(pt.Features, feats[v*dim:(v+1)*dim]...)
			pt.Labels[k] = int32(labels[v])
			if isTrain[v] {
				pt.Train = append(pt.Train, int32(k))
			}
		}
		parts[p] = pt
	}
	return parts, nil
}

// partMagic and partVersion identify a partition file.
const (
	partMagic   = "GOGNNprt"
	partVersion = 1
)

// Save writes the partition to path atomically, framed and checksummed like the module's other
// binary files (internal/persist):
//
//	u32 index, parts, hops, owned, dim, numSrc, numDst
//	count + int32 Nodes; count + int32 Owner; count + int64 RowPtr; count + int32 ColIdx
//	count + float32 Features; count + int32 Labels; count + int32 Train
func (pt *Part) Save(path string) error {
	return persist.WriteFile(path, partMagic, partVersion, func(w *persist.Writer) error {
		u32 := func(v int) { w.Write(le32(uint32(v))) }
		for _, v := range []int{pt.Index, pt.Parts, pt.Hops, pt.Owned, pt.Dim, pt.Graph.NumSrc, pt.Graph.NumDst} {
			u32(v)
		}
		i32s := func(s []int32) {
			u32(len(s))
			for _, v := range s {
				w.Write(le32(uint32(v)))
			}
		}
		i32s(pt.Nodes)
		i32s(pt.Owner)
		u32(len(pt.Graph.RowPtr))
		for _, v := range pt.Graph.RowPtr {
			w.Write(le64(uint64(v)))
		}
		i32s(pt.Graph.ColIdx)
		u32(len(pt.Features))
		for _, v := range pt.Features {
			w.Write(le32(f32bits(v)))
		}
		i32s(pt.Labels)
		i32s(pt.Train)
		return nil
	})
}

// LoadPart reads a partition file written by Save, checking its framing and every id.
func LoadPart(path string) (*Part, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pt, err := decodePart(data)
	if err != nil {
		return nil, fmt.Errorf("dist: %s: %w", path, err)
	}
	return pt, nil
}

func decodePart(data []byte) (*Part, error) {
	d, _, err := persist.Open(data, "a graph partition file", partMagic, partVersion)
	if err != nil {
		return nil, err
	}
	h := make([]int, 7)
	for i := range h {
		h[i] = int(d.U32("header"))
	}
	pt := &Part{Index: h[0], Parts: h[1], Hops: h[2], Owned: h[3], Dim: h[4]}
	numSrc, numDst := h[5], h[6]
	i32s := func(what string) []int32 {
		n := d.Count(4, what)
		s := make([]int32, n)
		for i := range s {
			s[i] = int32(d.U32(what))
		}
		return s
	}
	pt.Nodes = i32s("nodes")
	pt.Owner = i32s("owners")
	rowPtr := make([]int, d.Count(8, "row pointers"))
	for i := range rowPtr {
		rowPtr[i] = int(d.U64("row pointers"))
	}
	colIdx := i32s("column indices")
	feats := make([]float32, d.Count(4, "features"))
	d.F32s(feats, false, "features")
	pt.Features = feats
	pt.Labels = i32s("labels")
	pt.Train = i32s("training nodes")
	if err := d.Finish("a graph partition file"); err != nil {
		return nil, err
	}
	n := len(pt.Nodes)
	switch {
	case pt.Parts < 1 || pt.Index >= pt.Parts || pt.Hops < 1:
		return nil, persist.Corruptf("partition %d of %d with %d hops", pt.Index, pt.Parts, pt.Hops)
	case numSrc != n || numDst != n || len(pt.Owner) != n:
		return nil, persist.Corruptf("graph of %d x %d nodes and %d owners for %d local nodes", numSrc, numDst, len(pt.Owner), n)
	case pt.Owned > n || pt.Dim < 1 || len(pt.Features) != pt.Owned*pt.Dim || len(pt.Labels) != pt.Owned:
		return nil, persist.Corruptf("%d features and %d labels for %d own nodes of dimension %d", len(pt.Features), len(pt.Labels), pt.Owned, pt.Dim)
	}
	for k, o := range pt.Owner {
		if o < 0 || int(o) >= pt.Parts || (k < pt.Owned) != (int(o) == pt.Index) {
			return nil, persist.Corruptf("local node %d has owner %d (partition %d of %d owns the first %d)", k, o, pt.Index, pt.Parts, pt.Owned)
		}
	}
	for _, v := range pt.Train {
		if v < 0 || int(v) >= pt.Owned {
			return nil, persist.Corruptf("training node %d is not an own node (%d)", v, pt.Owned)
		}
	}
	for _, v := range pt.Nodes {
		if v < 0 {
			return nil, persist.Corruptf("negative node id %d", v)
		}
	}
	g := &graph.CSR{NumSrc: n, NumDst: n, RowPtr: rowPtr, ColIdx: colIdx}
	if err := g.Validate(); err != nil {
		return nil, persist.Corrupt(err)
	}
	pt.Graph = g
	return pt, nil
}

func le32(v uint32) []byte     { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte     { return binary.LittleEndian.AppendUint64(nil, v) }
func f32bits(v float32) uint32 { return math.Float32bits(v) }
