//go:build !linux

package hugepage

import "errors"

var errNotLinux = errors.New("hugepage: 2 MB pages are asked for on Linux only")

// Advise has no 2 MB pages to ask for outside Linux.
func Advise([]byte) error { return errNotLinux }

// Collapse has no 2 MB pages to ask for outside Linux.
func Collapse([]byte) error { return errNotLinux }
