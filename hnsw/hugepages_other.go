//go:build !linux

package hnsw

import "errors"

func madviseHuge([]byte) error { return errors.New("hnsw: 2 MB pages are asked for on Linux only") }

func hugeBytes[T any]([]T) []byte { return nil }
