package kernels

// level is a kernel set; higher levels need more of the CPU.
type level uint8

const (
	levelGeneric level = iota
	levelAVX2
	levelAVX512
)

var levelNames = [...]string{levelGeneric: "generic", levelAVX2: "avx2", levelAVX512: "avx512"}

func (l level) String() string { return levelNames[l] }

// parseLevel reads a GOGNN_ASM value.
func parseLevel(s string) (level, bool) {
	for l, name := range levelNames {
		if s == name {
			return level(l), true
		}
	}
	return 0, false
}

// lowerTo applies a GOGNN_ASM value to the best level: it can only lower it. An unknown value is
// ignored (a library has nowhere to report it); TestBackendSelected shows what was chosen.
func lowerTo(best level, env string) level {
	if l, ok := parseLevel(env); ok && l < best {
		return l
	}
	return best
}

// allowsF16C reports whether a GOGNN_ASM value leaves the F16C conversions on: only "generic"
// turns them off.
func allowsF16C(env string) bool {
	l, ok := parseLevel(env)
	return !ok || l != levelGeneric
}

// QuantBackend names the kernels package quant runs: "f16c+avx2", "f16c" or "generic".
func QuantBackend() string {
	switch {
	case f16c && active >= levelAVX2:
		return "f16c+avx2"
	case f16c:
		return "f16c"
	}
	return "generic"
}

// setBackend makes l the active backend until the returned function is called; for tests and
// benchmarks, which compare every backend this CPU has. Not safe while kernels run concurrently.
func setBackend(l level) (restore func()) {
	if l > best {
		panic("asm: backend " + l.String() + " not supported here")
	}
	old, oldF16C := active, f16c
	active = l
	// Forcing generic turns the F16C conversions off too, as GOGNN_ASM=generic does.
	f16c = hasF16C && (l != levelGeneric || best == levelGeneric)
	return func() { active, f16c = old, oldF16C }
}

// available lists the backends this build and CPU can run, lowest first.
func available() []level {
	var ls []level
	for l := levelGeneric; l <= best; l++ {
		ls = append(ls, l)
	}
	return ls
}
