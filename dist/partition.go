package dist

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gnnlab/gognn/graph"
)

// Book says which partition owns every node of a graph: Owner[v] is in [0, Parts).
type Book struct {
	Parts int
	Owner []int32
}

// Nodes returns the nodes partition p owns, in increasing order.
func (b *Book) Nodes(p int) []int {
	var out []int
	for v, o := range b.Owner {
		if int(o) == p {
			out = append(out, v)
		}
	}
	return out
}

// Sizes returns the number of nodes of every partition.
func (b *Book) Sizes() []int {
	s := make([]int, b.Parts)
	for _, o := range b.Owner {
		s[o]++
	}
	return s
}

// EdgeCut returns the number of g's edges whose two ends have different owners, and that
// number over g's edge count. For a symmetric graph every undirected edge is stored twice, so
// the count is twice METIS's; the fraction is the same.
func (b *Book) EdgeCut(g *graph.CSR) (cut int, fraction float64, err error) {
	if len(b.Owner) != g.NumDst || g.NumSrc != g.NumDst {
		return 0, 0, fmt.Errorf("dist: partition book of %d nodes for a graph of %d x %d nodes", len(b.Owner), g.NumSrc, g.NumDst)
	}
	for i := 0; i < g.NumDst; i++ {
		for e := g.RowPtr[i]; e < g.RowPtr[i+1]; e++ {
			if b.Owner[g.ColIdx[e]] != b.Owner[i] {
				cut++
			}
		}
	}
	if m := g.NumEdges(); m > 0 {
		fraction = float64(cut) / float64(m)
	}
	return cut, fraction, nil
}

// Contiguous partitions g's nodes into parts contiguous ranges of about equal edge count
// (graph.CSR.Partition): the pure-Go partitioner, which balances work but does not try to cut
// few edges.
func Contiguous(g *graph.CSR, parts int) (*Book, error) {
	if parts < 1 {
		return nil, fmt.Errorf("dist: %d partitions", parts)
	}
	bounds := g.Partition(parts)
	b := &Book{Parts: parts, Owner: make([]int32, g.NumDst)}
	for k := 0; k+1 < len(bounds); k++ {
		for v := bounds[k]; v < bounds[k+1]; v++ {
			b.Owner[v] = int32(k)
		}
	}
	return b, nil
}

// ErrNoMetis is returned by Metis when the gpmetis command is not installed.
var ErrNoMetis = errors.New("dist: gpmetis not found on PATH; install METIS (Debian: apt-get install metis) or partition with Contiguous")

// Metis partitions g into parts with METIS's multilevel k-way min-cut partitioner (Karypis &
// Kumar, 1998), by writing the graph in METIS's format to a temporary directory and running
// gpmetis, as DistDGL's partition_graph does through its bindings. The graph is made
// undirected and simple for METIS (self-loops and duplicate edges dropped); seed fixes METIS's
// random choices, so a partition is reproducible.
func Metis(ctx context.Context, g *graph.CSR, parts int, seed int) (*Book, error) {
	if parts < 1 {
		return nil, fmt.Errorf("dist: %d partitions", parts)
	}
	if g.NumSrc != g.NumDst {
		return nil, fmt.Errorf("dist: METIS partitions a graph, not a %d x %d bipartite block", g.NumSrc, g.NumDst)
	}
	if parts == 1 {
		return &Book{Parts: 1, Owner: make([]int32, g.NumDst)}, nil
	}
	bin, err := exec.LookPath("gpmetis")
	if err != nil {
		return nil, ErrNoMetis
	}
	dir, err := os.MkdirTemp("", "gognn-metis-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "graph.metis")
	if err := writeMetis(file, g); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "-seed="+strconv.Itoa(seed), "-objtype=cut", file, strconv.Itoa(parts))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("dist: gpmetis: %v: %s", err, lastLines(string(out), 5))
	}
	return readMetisParts(fmt.Sprintf("%s.part.%d", file, parts), g.NumDst, parts)
}

// writeMetis writes g, made undirected and simple, in METIS's graph format: a header "n m"
// (m undirected edges) and, for every node, the 1-based ids of its neighbours.
func writeMetis(path string, g *graph.CSR) error {
	adj := make([][]int32, g.NumDst)
	for i := 0; i < g.NumDst; i++ {
		for e := g.RowPtr[i]; e < g.RowPtr[i+1]; e++ {
			j := g.ColIdx[e]
			if int(j) == i {
				continue
			}
			adj[i] = append(adj[i], j)
			adj[j] = append(adj[j], int32(i))
		}
	}
	m := 0
	for i := range adj {
		slices.Sort(adj[i])
		adj[i] = slices.Compact(adj[i])
		m += len(adj[i])
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(w, "%d %d\n", g.NumDst, m/2)
	buf := make([]byte, 0, 16)
	for _, row := range adj {
		for k, j := range row {
			if k > 0 {
				w.WriteByte(' ')
			}
			buf = strconv.AppendInt(buf[:0], int64(j)+1, 10)
			w.Write(buf)
		}
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readMetisParts(path string, n, parts int) (*Book, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dist: gpmetis wrote no partition file: %w", err)
	}
	defer f.Close()
	b := &Book{Parts: parts, Owner: make([]int32, 0, n)}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
		if err != nil || p < 0 || p >= parts {
			return nil, fmt.Errorf("dist: %s line %d: %q is not a partition in [0, %d)", path, len(b.Owner)+1, sc.Text(), parts)
		}
		b.Owner = append(b.Owner, int32(p))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(b.Owner) != n {
		return nil, fmt.Errorf("dist: %s has %d lines, want one per node (%d)", path, len(b.Owner), n)
	}
	return b, nil
}

func lastLines(s string, k int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > k {
		lines = lines[len(lines)-k:]
	}
	return strings.Join(lines, " | ")
}
