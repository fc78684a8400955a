package models

import (
	"testing"

	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
)

// TestPublishedSettingsBuild builds every published model that the package makes on a small
// graph and runs a forward pass, so a setting cannot name a model that does not build.
func TestPublishedSettingsBuild(t *testing.T) {
	a, err := graph.Random(30, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range PublishedNames() {
		s, err := PublishedSetting(name, 5, 3)
		if err != nil {
			t.Fatal(err)
		}
		if s.Source == "" {
			t.Errorf("%s: no source", name)
		}
		if name == "gcnii" {
			s.Layers = 4 // the paper's 64 layers build the same way; keep the test quick
		}
		c, _ := nn.NewContext(tensor.Float32, 1)
		m, err := BuildPublished(c, s)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		x := c.Constant("x", tensor.New(tensor.WithShape(30, 5), tensor.Of(tensor.Float32)))
		out, err := m.Forward(c, a, nn.Dense{X: x})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := out.Shape(); len(got) != 2 || got[0] != 30 || got[1] != 3 {
			t.Errorf("%s: logits of shape %v, want (30, 3)", name, got)
		}
	}
	if _, err := PublishedSetting("nope", 5, 3); err == nil {
		t.Error("an unknown model has a setting")
	}
}

func TestPublishedDecaysOfGCNII(t *testing.T) {
	s, _ := PublishedSetting("gcnii", 5, 3)
	s.Layers = 2
	c, _ := nn.NewContext(tensor.Float32, 1)
	m, err := BuildPublished(c, s)
	if err != nil {
		t.Fatal(err)
	}
	d := PublishedDecays(m, s)
	if len(d) != 1 || d[0].WeightDecay != 0.01 || len(d[0].Params) != 2 {
		t.Fatalf("GCNII decays %+v: want the 2 convolutions at 0.01", d)
	}
	if len(m.Decayed()) != 4 || s.Train.WeightDecay != 5e-4 {
		t.Errorf("GCNII dense decay: %d parameters at %v, want 4 at 5e-4", len(m.Decayed()), s.Train.WeightDecay)
	}
}

// TestPatienceOnEither checks APPNP's stopping rule: patience restarts when either score reaches
// its best (ties included), while the kept model is the best by accuracy.
func TestPatienceOnEither(t *testing.T) {
	b := newBestTracker(true)
	b.either = true
	steps := []struct {
		loss, acc float64
		best      bool
		since     int
	}{
		{1.0, 0.5, true, 0},
		{0.9, 0.4, false, 0},   // lower loss: patience restarts, the model is not kept
		{0.95, 0.5, true, 0},   // ties the kept accuracy with a lower loss than the kept model's
		{0.97, 0.5, false, 0},  // ties the best accuracy again: restarts, but is not kept
		{0.95, 0.45, false, 1}, // neither: patience runs
		{0.95, 0.6, true, 0},
	}
	for i, s := range steps {
		if got := b.observe(s.loss, s.acc); got != s.best || b.since != s.since {
			t.Errorf("step %d: best %v since %d, want %v %d", i, got, b.since, s.best, s.since)
		}
	}
}
