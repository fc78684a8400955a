//go:build !unix

package atomicfile

// syncDir does nothing where directories cannot be synced (Windows, js/wasm, wasip1).
var syncDir = func(dir string) error { return nil }
