//go:build amd64 && !noasm

package kernels

import (
	"os"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestQuantBackendSelected fails when a CPU with F16C (or AVX2 and FMA) does not get those kernels,
// so a broken detection cannot silently fall back to the slower pure Go. GOGNN_ASM=generic may lower it.
func TestQuantBackendSelected(t *testing.T) {
	want := "generic"
	if os.Getenv("GOGNN_ASM") != "generic" {
		switch {
		case cpu.X86.HasAVX && cpu.X86.HasF16C && cpu.X86.HasAVX2 && cpu.X86.HasFMA:
			want = "f16c+avx2"
		case cpu.X86.HasAVX && cpu.X86.HasF16C:
			want = "f16c"
		}
	}
	if got := QuantBackend(); got != want {
		t.Fatalf("backend %q, want %q (AVX %v, F16C %v, AVX2 %v, FMA %v, GOGNN_ASM=%q)", got, want,
			cpu.X86.HasAVX, cpu.X86.HasF16C, cpu.X86.HasAVX2, cpu.X86.HasFMA, os.Getenv("GOGNN_ASM"))
	}
	t.Logf("quant kernels: %s", QuantBackend())
}
