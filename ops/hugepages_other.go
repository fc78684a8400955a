//go:build !linux

package ops

import "errors"

// madviseHugePages has no 2 MB pages to ask for outside Linux.
func madviseHugePages([]byte) error { return errors.New("ops: 2 MB pages are asked for on Linux only") }
