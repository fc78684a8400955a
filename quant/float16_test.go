package quant

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

func TestFloat16EdgeCases(t *testing.T) {
	tests := []struct {
		name string
		in   float32
		want uint16
	}{
		{"zero", 0, 0x0000},
		{"negative zero", float32(math.Copysign(0, -1)), 0x8000},
		{"one", 1, 0x3c00},
		{"minus two", -2, 0xc000},
		{"max half", 65504, 0x7bff},
		{"just below the overflow tie rounds down", 65519.996, 0x7bff},
		{"overflow tie rounds to inf", 65520, 0x7c00},
		{"overflow", 1e6, 0x7c00},
		{"negative overflow", -1e6, 0xfc00},
		{"max float32", math.MaxFloat32, 0x7c00},
		{"+inf", float32(math.Inf(1)), 0x7c00},
		{"-inf", float32(math.Inf(-1)), 0xfc00},
		{"smallest normal", 0x1p-14, 0x0400},
		{"largest subnormal", 1023 * 0x1p-24, 0x03ff},
		{"smallest subnormal", 0x1p-24, 0x0001},
		{"negative smallest subnormal", -0x1p-24, 0x8001},
		{"half the smallest subnormal ties to zero", 0x1p-25, 0x0000},
		{"just above half the smallest subnormal", 0x1.000002p-25, 0x0001},
		{"underflow keeps the sign", -0x1p-30, 0x8000},
		{"subnormal tie to even rounds up", 3 * 0x1p-25, 0x0002},
		{"subnormal tie to even rounds down", 5 * 0x1p-25, 0x0002},
		{"tie to even rounds down", 1 + 0x1p-11, 0x3c00},
		{"tie to even rounds up", 1 + 3*0x1p-11, 0x3c02},
		{"above the tie rounds up", 1 + 0x1.002p-11, 0x3c01},
		{"float32 subnormal", 0x1p-140, 0x0000},
	}
	src := make([]float32, len(tests))
	for i, tt := range tests {
		src[i] = tt.in
	}
	got := make([]uint16, len(src))
	ToFloat16(got, src)
	back := make([]float32, len(src))
	FromFloat16(back, got)
	for i, tt := range tests {
		if got[i] != tt.want {
			t.Errorf("%s: ToFloat16(%g) = %#04x, want %#04x", tt.name, tt.in, got[i], tt.want)
		}
		if want := halfValue(tt.want); math.Float32bits(back[i]) != math.Float32bits(want) {
			t.Errorf("%s: FromFloat16(%#04x) = %g, want %g", tt.name, got[i], back[i], want)
		}
	}
}

func TestFloat16NaN(t *testing.T) {
	for _, bits := range []uint32{0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fbfffff, 0x7fc01234} {
		in := []float32{math.Float32frombits(bits)}
		h := make([]uint16, 1)
		ToFloat16(h, in)
		if h[0]&0x7c00 != 0x7c00 || h[0]&0x03ff == 0 {
			t.Errorf("ToFloat16(NaN %#08x) = %#04x, not a NaN", bits, h[0])
		}
		if h[0]>>15 != uint16(bits>>31) {
			t.Errorf("ToFloat16(NaN %#08x) = %#04x lost the sign", bits, h[0])
		}
		back := make([]float32, 1)
		FromFloat16(back, h)
		if !math.IsNaN(float64(back[0])) {
			t.Errorf("FromFloat16(%#04x) = %g, want NaN", h[0], back[0])
		}
	}
	if Float16Overflow([]float32{float32(math.NaN()), float32(math.Inf(-1)), 65504, -65519}) != -1 {
		t.Error("Float16Overflow reports NaN, Inf or representable values")
	}
	if i := Float16Overflow([]float32{1, -65520, 1e30}); i != 1 {
		t.Errorf("Float16Overflow = %d, want 1", i)
	}
}

// TestFromFloat16Exhaustive converts every half and checks the value against an independent
// decoding and the round trip back to the same bits.
func TestFromFloat16Exhaustive(t *testing.T) {
	src := make([]uint16, 1<<16)
	for i := range src {
		src[i] = uint16(i)
	}
	dst := make([]float32, len(src))
	FromFloat16(dst, src)
	back := make([]uint16, len(src))
	ToFloat16(back, dst)
	ref := make([]float32, len(src))
	fromFloat16Ref(ref, src)
	for i, h := range src {
		if math.Float32bits(dst[i]) != math.Float32bits(ref[i]) {
			t.Fatalf("FromFloat16(%#04x) = %#08x, the reference gives %#08x (NaN payloads included)", h, math.Float32bits(dst[i]), math.Float32bits(ref[i]))
		}
		want := halfValue(h)
		if math.IsNaN(float64(want)) {
			if !math.IsNaN(float64(dst[i])) || back[i]&0x7c00 != 0x7c00 || back[i]&0x3ff == 0 {
				t.Fatalf("NaN %#04x -> %g -> %#04x, want NaN throughout", h, dst[i], back[i])
			}
			continue
		}
		if math.Float32bits(dst[i]) != math.Float32bits(want) {
			t.Fatalf("FromFloat16(%#04x) = %g, want %g", h, dst[i], want)
		}
		if back[i] != h {
			t.Fatalf("round trip %#04x -> %g -> %#04x", h, dst[i], back[i])
		}
	}
}

// TestToFloat16Rounding checks, for a sweep over all float32 bit patterns plus the values next
// to every rounding boundary, that the result is the nearest half with ties to even: a property
// check that does not rely on the reference implementation.
func TestToFloat16Rounding(t *testing.T) {
	var src []float32
	for b := uint64(0); b < 1<<32; b += 7919 { // a prime stride visits every residue pattern
		src = append(src, math.Float32frombits(uint32(b)))
	}
	for h := uint32(0); h < 0x7c00; h++ {
		// The midpoint between h and h+1, and its float32 neighbours, on both signs.
		mid := (float64(halfValue(uint16(h))) + float64(halfValue(uint16(h+1)))) / 2
		m := float32(mid)
		for _, v := range []float32{m, math.Nextafter32(m, 0), math.Nextafter32(m, math.MaxFloat32)} {
			src = append(src, v, -v)
		}
	}
	dst := make([]uint16, len(src))
	ToFloat16(dst, src)
	ref := make([]uint16, len(src))
	toFloat16Ref(ref, src)
	for i, v := range src {
		if dst[i] != ref[i] {
			t.Fatalf("ToFloat16(%#08x) = %#04x, the reference gives %#04x", math.Float32bits(v), dst[i], ref[i])
		}
		if err := checkNearestHalf(v, dst[i]); err != "" {
			t.Fatalf("ToFloat16(%g = %#08x) = %#04x: %s", v, math.Float32bits(v), dst[i], err)
		}
	}
}

// checkNearestHalf returns why h is not the correct rounding of v, or "".
func checkNearestHalf(v float32, h uint16) string {
	x := float64(v)
	switch {
	case math.IsNaN(x):
		if h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
			return "want NaN"
		}
		return ""
	case h>>15 != uint16(math.Float32bits(v)>>31):
		return "wrong sign"
	case math.Abs(x) >= float16Limit:
		if h&0x7fff != 0x7c00 {
			return "want infinity"
		}
		return ""
	}
	mag := h & 0x7fff
	if mag >= 0x7c00 {
		return "infinite or NaN for a representable value"
	}
	a := math.Abs(x)
	d := math.Abs(a - float64(halfValue(mag)))
	if mag > 0 {
		if dl := a - float64(halfValue(mag-1)); dl < d || dl == d && mag&1 == 1 {
			return "the half below is nearer (or the even one of a tie)"
		}
	}
	if mag < 0x7bff {
		if du := float64(halfValue(mag+1)) - a; du < d || du == d && mag&1 == 1 {
			return "the half above is nearer (or the even one of a tie)"
		}
	} else if d > 16 {
		return "the largest half is more than half a step away"
	}
	return ""
}

// halfValue decodes half bits from the definition, independently of package float16.
func halfValue(h uint16) float32 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, frac := int(h>>10&0x1f), float64(h&0x3ff)
	switch exp {
	case 0x1f:
		if frac != 0 {
			return float32(math.NaN())
		}
		return float32(math.Inf(int(sign)))
	case 0:
		return float32(sign * math.Ldexp(frac, -24))
	}
	return float32(sign * math.Ldexp(1024+frac, exp-25))
}

// TestToFloat16Exhaustive compares ToFloat16 with the reference on all 2^32 float32 bit
// patterns, which takes a minute: set GOGNN_EXHAUSTIVE=1 to run it.
func TestToFloat16Exhaustive(t *testing.T) {
	if os.Getenv("GOGNN_EXHAUSTIVE") == "" {
		t.Skip("set GOGNN_EXHAUSTIVE=1 to check all 2^32 inputs")
	}
	const chunk = 1 << 20
	src := make([]float32, chunk)
	got := make([]uint16, chunk)
	want := make([]uint16, chunk)
	for base := uint64(0); base < 1<<32; base += chunk {
		for i := range src {
			src[i] = math.Float32frombits(uint32(base) + uint32(i))
		}
		ToFloat16(got, src)
		toFloat16Ref(want, src)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("ToFloat16(%#08x) = %#04x, the reference gives %#04x", uint32(base)+uint32(i), got[i], want[i])
			}
		}
	}
}

func TestFloat16Lengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 70; n++ {
		// Offsets 0..3 move the slices off any alignment.
		off := n % 4
		src := make([]float32, n+off)[off:]
		for i := range src {
			src[i] = float32(rng.NormFloat64() * 100)
		}
		// Guard cells after the converted part must stay untouched.
		h := make([]uint16, n+3+off)[off:]
		for i := range h {
			h[i] = 0xdead
		}
		ToFloat16(h, src)
		want := make([]uint16, n)
		toFloat16Ref(want, src)
		for i := range want {
			if h[i] != want[i] {
				t.Fatalf("n=%d: ToFloat16[%d] = %#04x, want %#04x", n, i, h[i], want[i])
			}
		}
		f := make([]float32, n+3)
		for i := range f {
			f[i] = -7
		}
		FromFloat16(f, h[:n])
		for i := range n {
			if f[i] != halfValue(h[i]) {
				t.Fatalf("n=%d: FromFloat16[%d] = %g, want %g", n, i, f[i], halfValue(h[i]))
			}
		}
		if h[n] != 0xdead || f[n] != -7 || h[n+2] != 0xdead || f[n+2] != -7 {
			t.Fatalf("n=%d: conversion wrote past len(src)", n)
		}
	}
	mustPanic(t, "short dst", func() { ToFloat16(make([]uint16, 1), make([]float32, 2)) })
	mustPanic(t, "short dst", func() { FromFloat16(make([]float32, 1), make([]uint16, 2)) })
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", what)
		}
	}()
	f()
}
