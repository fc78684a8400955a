package nn

import (
	"errors"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// Layers on a graph without edges: a clear error for per-edge messages, which Gorgonia cannot
// run on empty matrices, and zero messages for plain source rows; never a panic.
func TestLayersOnAGraphWithoutEdges(t *testing.T) {
	empty, err := graph.FromEdges(3, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := NewContext(tensor.Float32, 1)
	x, _ := c.Param("x", tensor.Shape{3, 4}, Normal(0, 1))
	v2, _ := NewGATv2Conv(c, "gatv2", GATv2Config{GATConfig: GATConfig{In: 4, Out: 2, Heads: 2, Concat: true, NoSelfLoops: true}})
	h, _ := NewLinear(c, "h", 4, 4, true)
	gin, _ := NewGINConv(c, "gin", h, GINConfig{In: 4})
	tf, _ := NewTransformerConv(c, "tf", TransformerConfig{In: 4, Out: 2, Heads: 2, Concat: true})
	for _, l := range []Layer{v2, gin, tf} {
		_, isGIN := l.(*GINConv)
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%T on a graph without edges panicked: %v", l, r)
				}
			}()
			out, err := l.Forward(empty, x)
			if isGIN {
				// Plain source rows: no per-edge matrix, every sum is zero.
				if err != nil {
					t.Fatalf("GIN on a graph without edges: %v", err)
				}
				run(t, c, out)
				return
			}
			if !errors.Is(err, errNoEdges) {
				t.Errorf("%T on a graph without edges: error %v, want the no-edges error", l, err)
			}
		}()
	}
}
