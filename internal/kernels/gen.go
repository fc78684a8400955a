package kernels

// The kernels are generated with avo by the separate module ops/asm/_gen, the one generator of
// the module's assembly, which keeps avo out of the root module's go.sum. Its -check flag
// compares instead of writing (make asm-check: the files must be up to date).
//go:generate go run -C ../../ops/asm/_gen . -out ../../../internal/kernels
