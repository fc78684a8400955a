package hnsw

import (
	"fmt"

	"github.com/gnnlab/gognn/graph"
)

// Layer returns layer l of the index as a graph on all Len() ids: row i lists node i's
// neighbours on layer l, so in a GNN layer node i aggregates messages from the nodes it links to,
// its approximate nearest neighbours. Nodes not on layer l and deleted nodes have empty rows. The
// graph is a snapshot: later Adds and Deletes do not change it. Layers with l >= 1 are sparse in
// their nodes (a node reaches layer l with probability M^-l).
func (ix *Index) Layer(l int) (*graph.CSR, error) {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	if nl := ix.Levels(); l < 0 || l >= nl {
		return nil, fmt.Errorf("hnsw: Layer(%d): the index has layers 0..%d", l, nl-1)
	}
	n := ix.Len()
	adj := make([][]int, n)
	var buf []int32
	for i := 0; i < n; i++ {
		if int(ix.levels[i]) < l || ix.isDeleted(int32(i)) {
			continue
		}
		buf = ix.readLinks(int32(i), l, buf)
		row := make([]int, len(buf))
		for j, x := range buf {
			row[j] = int(x)
		}
		adj[i] = row
	}
	return graph.FromAdjacency(adj)
}
