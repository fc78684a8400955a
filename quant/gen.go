package quant

// The kernels are generated with avo by the separate module in _gen, which keeps avo out of the
// root module's go.sum. -check compares instead of writing (CI: the files must be up to date).
//go:generate go run -C _gen . -out ..
