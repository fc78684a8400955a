package models

import (
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/nn"
)

// A residual DeepGCN keeps one skip connection per hidden block however often it is run, and
// an error inside a residual block reaches the caller (it was once shadowed, and the model
// went on with a nil node).
func TestDeepGCNResidualBlocks(t *testing.T) {
	a, feats, _, _, _, _ := communities(40, 2, 1)
	c, err := nn.NewContext(tensor.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewDeepGCN(c, len(feats[0]), 8, 2, 5, true, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	x := denseFeatures(c, feats)
	for run := 0; run < 2; run++ {
		out, err := m.Forward(c, a, x)
		if err != nil {
			t.Fatal(err)
		}
		if s := out.Shape(); s[0] != 40 || s[1] != 2 {
			t.Fatalf("logits of shape %v, want (40, 2)", s)
		}
		if len(m.Skips) != 3 {
			t.Fatalf("after %d forward passes the model has %d skip connections, want 3", run+1, len(m.Skips))
		}
	}

	// A norm of the wrong width inside the first residual block.
	if m.Norms[0], err = nn.NewLayerNorm(c, "wrong", 5); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("an error inside a residual block panicked: %v", r)
			}
		}()
		_, err = m.Forward(c, a, x)
	}()
	if err == nil || !strings.Contains(err.Error(), "layer norm") {
		t.Fatalf("an error inside a residual block returned %v, want the layer norm's error", err)
	}
}
