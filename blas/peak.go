package blas

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gnnlab/gognn/internal/kernels"
)

// PeakGFLOPS returns the float32 peak of one core in GFLOP/s that the kernels of this package
// could reach, and a sentence saying how it was obtained: flops per cycle from the vector width
// of the backend in use (AVX2: 8 float32 lanes x 2 FMA pipes x 2 flops per FMA = 32; AVX-512:
// 64; the pure Go build: 2, one scalar multiply-add) times the clock. The clock is measured,
// as the fastest of 30 runs of about a million cycles of dependent 1-cycle additions (the
// maximum discards runs disturbed by other processes; it includes turbo), or, without the
// assembly, read from "cpu MHz" in /proc/cpuinfo. It takes about 20 ms.
func PeakGFLOPS() (perCore float64, how string) {
	flops, width := 2.0, "scalar (no SIMD kernel: 1 multiply-add per cycle)"
	switch kernels.Backend() {
	case "avx2", "avx512":
		// The SGEMM kernel is AVX2 on both (see internal/kernels), so AVX-512 counts 8 lanes too.
		flops, width = 32, "AVX2+FMA (8 float32 lanes x 2 FMA pipes x 2 flops = 32 flops/cycle)"
	}
	ghz, clock := measureClock()
	if ghz == 0 {
		ghz, clock = cpuinfoGHz()
	}
	if ghz == 0 {
		return 0, width + "; clock unknown"
	}
	return flops * ghz, fmt.Sprintf("%s x %.2f GHz %s = %.1f GFLOP/s per core", width, ghz, clock, flops*ghz)
}

func measureClock() (ghz float64, how string) {
	const n = 125_000 // 1,000,000 cycles
	if !kernels.SpinCycles(0) {
		return 0, ""
	}
	best := time.Duration(1 << 62)
	for i := 0; i < 30; i++ {
		t0 := time.Now()
		kernels.SpinCycles(n)
		best = min(best, time.Since(t0))
	}
	return 8 * n / best.Seconds() / 1e9, "(measured: fastest of 30 timed chains of 10^6 dependent additions)"
}

func cpuinfoGHz() (ghz float64, how string) {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return 0, ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "cpu MHz" {
			if mhz, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && mhz > 0 {
				return mhz / 1000, `("cpu MHz" of /proc/cpuinfo)`
			}
		}
	}
	return 0, ""
}
