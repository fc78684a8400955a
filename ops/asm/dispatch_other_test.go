//go:build !amd64 || noasm

package asm

import "testing"

func TestBackendSelected(t *testing.T) {
	if got := Backend(); got != "generic" {
		t.Fatalf("Backend() = %q, want generic without assembly", got)
	}
}
