package blas

import (
	"strings"
	"testing"

	"github.com/gnnlab/gognn/internal/kernels"
)

func TestPeakGFLOPS(t *testing.T) {
	peak, how := PeakGFLOPS()
	t.Logf("%.1f GFLOP/s per core: %s", peak, how)
	if peak <= 0 && !strings.Contains(how, "clock unknown") {
		t.Fatalf("peak %v with %q", peak, how)
	}
	if kernels.Backend() != "generic" {
		// 32 flops per cycle at a clock between 0.5 and 7 GHz.
		if peak < 16 || peak > 224 || !strings.Contains(how, "measured") {
			t.Errorf("peak %.1f GFLOP/s (%s): want a measured clock and 32 flops/cycle", peak, how)
		}
	}
}
