package metrics

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// Expected values computed by hand, the way sklearn defines them (see each case).
func TestAUCAndAP(t *testing.T) {
	cases := []struct {
		name    string
		scores  []float64
		labels  []bool
		auc, ap float64
	}{
		// sklearn's documented example: roc_auc 0.75, average precision 0.8333.
		{"sklearn doc", []float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true}, 0.75, 0.5 + 0.5*2.0/3},
		// A positive tied with a negative counts one half: (0.5+1+1+1)/4; AP 0.5*1 + 0.5*(2/3).
		{"tie", []float64{0.5, 0.5, 0.2, 0.9}, []bool{true, false, false, true}, 3.5 / 4, 0.5 + 0.5*2.0/3},
		// Ties at every threshold: 5.5 of 9 pairs; AP (1/3)(1/2) + (2/3)(3/5).
		{"many ties", []float64{.3, .3, .3, .1, .7, .7}, []bool{true, true, false, false, true, false}, 5.5 / 9, 1.0/6 + 0.4},
		{"perfect", []float64{3, 2, 1}, []bool{true, true, false}, 1, 1},
		{"reversed", []float64{1, 2, 3}, []bool{true, false, false}, 0, 1.0 / 3},
	}
	for _, c := range cases {
		auc, err := AUC(c.scores, c.labels)
		if err != nil || !near(auc, c.auc) {
			t.Errorf("%s: AUC %v (%v), want %v", c.name, auc, err, c.auc)
		}
		ap, err := AP(c.scores, c.labels)
		if err != nil || !near(ap, c.ap) {
			t.Errorf("%s: AP %v (%v), want %v", c.name, ap, err, c.ap)
		}
	}
	for _, bad := range []struct {
		s []float64
		l []bool
	}{
		{[]float64{1, 2}, []bool{true, true}},
		{[]float64{1}, []bool{true, false}},
		{[]float64{math.NaN(), 1}, []bool{true, false}},
	} {
		if _, err := AUC(bad.s, bad.l); err == nil {
			t.Errorf("AUC(%v, %v) succeeded", bad.s, bad.l)
		}
		if _, err := AP(bad.s, bad.l); err == nil {
			t.Errorf("AP(%v, %v) succeeded", bad.s, bad.l)
		}
	}
}

func TestHitsAndMRR(t *testing.T) {
	pos, neg := []float64{0.9, 0.5, 0.3}, []float64{0.6, 0.4, 0.2}
	for _, c := range []struct {
		k    int
		want float64
	}{{1, 1.0 / 3}, {2, 2.0 / 3}, {3, 1}, {4, 1}} {
		h, err := HitsAtK(pos, neg, c.k)
		if err != nil || !near(h, c.want) {
			t.Errorf("Hits@%d = %v (%v), want %v", c.k, h, err, c.want)
		}
	}
	// A positive tied with a negative is not a hit (OGB: strictly above).
	if h, _ := HitsAtK([]float64{0.4}, neg, 2); h != 0 {
		t.Errorf("tied Hits@2 = %v, want 0", h)
	}
	// Ranks 1 + 1 + 1/2 = 2.5 and 1 + 2 = 3.
	m, err := MRR([]float64{0.5, 0.2}, [][]float64{{0.6, 0.5, 0.1}, {0.3, 0.4, 0.1}})
	if want := (1/2.5 + 1/3.0) / 2; err != nil || !near(m, want) {
		t.Errorf("MRR %v (%v), want %v", m, err, want)
	}
	if _, err := MRR([]float64{1}, nil); err == nil {
		t.Error("MRR without negatives succeeded")
	}
}

func TestAccuracy(t *testing.T) {
	pred := Argmax([][]float64{{0.1, 0.9}, {2, 1}, {1, 1}})
	a, err := Accuracy(pred, []int{1, 1, 0})
	if err != nil || !near(a, 2.0/3) || pred[2] != 0 {
		t.Errorf("accuracy %v (%v) of %v", a, err, pred)
	}
	if _, err := Accuracy(nil, nil); err == nil {
		t.Error("accuracy of nothing succeeded")
	}
}
