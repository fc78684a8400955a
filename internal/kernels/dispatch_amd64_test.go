//go:build amd64 && !noasm

package kernels

import (
	"os"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestBackendSelected fails when a CPU that has the features of a backend does not get it, so a
// broken detection cannot silently fall back to slower kernels. GOGNN_ASM may lower it.
func TestBackendSelected(t *testing.T) {
	want := "generic"
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		want = "avx2"
		if cpu.X86.HasAVX512F {
			want = "avx512"
		}
	}
	if env := os.Getenv("GOGNN_ASM"); env != "" {
		if l, ok := parseLevel(env); ok && l < best {
			want = env
		}
	}
	if got := Backend(); got != want {
		t.Fatalf("Backend() = %q, want %q (AVX2 %v, FMA %v, AVX512F %v, GOGNN_ASM=%q)", got, want,
			cpu.X86.HasAVX2, cpu.X86.HasFMA, cpu.X86.HasAVX512F, os.Getenv("GOGNN_ASM"))
	}
	t.Logf("backend %s; available: %v", Backend(), available())
}
