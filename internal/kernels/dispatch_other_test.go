//go:build !amd64 || noasm

package kernels

import "testing"

func TestBackendSelected(t *testing.T) {
	if got := Backend(); got != "generic" {
		t.Fatalf("Backend() = %q, want generic without assembly", got)
	}
	if got := QuantBackend(); got != "generic" {
		t.Fatalf("QuantBackend() = %q, want generic without assembly", got)
	}
}
