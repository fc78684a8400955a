package nn

import (
	"fmt"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops"
)

// gcnMessagePassing is P x written on the message-passing API: the source rows weighted by the
// normalised graph's weights and summed, run over a.GCNNorm() (which holds the self-loops and
// the weights d_i^-1/2 d_j^-1/2). It lowers to ops.WeightedAggregate.
func gcnMessagePassing(c *Context) (*MessagePassing, error) {
	return NewMessagePassing(c, SumAggr, func(e *Edges) (Message, error) {
		return Message{Src: e.X, GraphWeights: true}, nil
	})
}

// TestPropagationOnMessagePassing checks that the propagation of SGC, APPNP and GCNII, written
// on the message-passing API over the normalised graph, gives what the layers compute with
// ops.GCNPropagate.
func TestPropagationOnMessagePassing(t *testing.T) {
	a := tiny(t)
	norm, err := a.GCNNorm()
	if err != nil {
		t.Fatal(err)
	}
	c, _ := NewContext(tensor.Float64, 13)
	mp, err := gcnMessagePassing(c)
	if err != nil {
		t.Fatal(err)
	}
	xn, _ := randomInput(c, 4, 3)
	viaMP, err := mp.Forward(norm, xn)
	if err != nil {
		t.Fatal(err)
	}
	fused, err := Propagate(a, xn, 1)
	if err != nil {
		t.Fatal(err)
	}
	got := run(t, c, G.Must(G.Concat(0, viaMP, fused)))
	near(t, "P x on message passing", got[:12], got[12:])
}

// BenchmarkPropagation compares one propagation P x (forward and backward) through the fused
// op with the same propagation on the message-passing API, at Cora's size (2708 nodes, about 4
// in-edges each) and GCNII's width 64.
func BenchmarkPropagation(b *testing.B) {
	a, err := graph.Random(2708, 4, 1)
	if err != nil {
		b.Fatal(err)
	}
	norm, err := a.GCNNorm()
	if err != nil {
		b.Fatal(err)
	}
	for _, path := range []string{"fused", "message-passing"} {
		b.Run(fmt.Sprintf("%s/width=64", path), func(b *testing.B) {
			c, _ := NewContext(tensor.Float32, 1)
			x, err := c.Param("x", tensor.Shape{2708, 64}, Normal(0, 1))
			if err != nil {
				b.Fatal(err)
			}
			var out *G.Node
			if path == "fused" {
				out, err = Propagate(a, x, 1)
			} else {
				var mp *MessagePassing
				if mp, err = gcnMessagePassing(c); err == nil {
					out, err = mp.Forward(norm, x)
				}
			}
			if err != nil {
				b.Fatal(err)
			}
			loss := G.Must(G.Sum(out))
			if _, err := G.Grad(loss, x); err != nil {
				b.Fatal(err)
			}
			m := G.NewTapeMachine(c.Graph)
			defer m.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m.Reset()
				if err := m.RunAll(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A MessagePassing with GCNNorm runs P x as ops.GCNPropagate over a graph it supports, and over
// the normalised graph's rows otherwise (here a graph that has a self-loop already), with the
// same values; a message may read and change P's entries through Edges.Weights.
func TestMessagePassingGCNNorm(t *testing.T) {
	a := tiny(t)
	looped, err := graph.FromEdges(4, []int{0, 2, 1, 1, 0, 3}, []int{1, 1, 0, 2, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	opsOf := func(c *Context) string {
		var names []string
		for _, n := range c.Graph.AllNodes() {
			if op := n.Op(); op != nil {
				names = append(names, op.String())
			}
		}
		return fmt.Sprint(names)
	}
	for _, tc := range []struct {
		name  string
		g     *graph.CSR
		fused bool
	}{{"plain graph", a, true}, {"graph with a self-loop", looped, false}} {
		c, _ := NewContext(tensor.Float64, 13)
		x, _ := randomInput(c, 4, 3)
		viaMP, err := NewGCNPropagation(c).Forward(tc.g, x)
		if err != nil {
			t.Fatal(err)
		}
		norm, err := tc.g.GCNNorm()
		if err != nil {
			t.Fatal(err)
		}
		// The same message with the weights read and passed per edge: never fused.
		weighed := &MessagePassing{Aggr: SumAggr, GCNNorm: true, c: c, Message: func(e *Edges) (Message, error) {
			w, err := e.Weights()
			return Message{Src: e.X, Weight: w}, err
		}}
		perEdge, err := weighed.Forward(tc.g, x)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := ops.WeightedAggregate(norm, x)
		if err != nil {
			t.Fatal(err)
		}
		got := run(t, c, G.Must(G.Concat(0, viaMP, perEdge, ref)))
		near(t, tc.name+": P x", got[:12], got[24:])
		near(t, tc.name+": P x with Edges.Weights", got[12:24], got[24:])
		if fused := strings.Contains(opsOf(c), "gcn_propagate"); fused != tc.fused {
			t.Errorf("%s: ops.GCNPropagate in the graph: %v, want %v (%s)", tc.name, fused, tc.fused, opsOf(c))
		}
	}

	c, _ := NewContext(tensor.Float64, 1)
	x, _ := randomInput(c, 4, 3)
	both := NewGCNPropagation(c)
	both.SelfLoops = true
	if _, err := both.Forward(a, x); err == nil || !strings.Contains(err.Error(), "adds the self-loops itself") {
		t.Errorf("GCNNorm with SelfLoops: %v", err)
	}
	unweighted, _ := NewMessagePassing(c, SumAggr, func(e *Edges) (Message, error) {
		w, err := e.Weights()
		return Message{Src: e.X, Weight: w}, err
	})
	if _, err := unweighted.Forward(a, x); err == nil || !strings.Contains(err.Error(), "has none") {
		t.Errorf("Edges.Weights of an unweighted graph: %v", err)
	}
}
