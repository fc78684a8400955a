package graph

// Partition splits the destination rows into at most parts contiguous ranges of about equal
// cost, where a row costs its in-edges plus one (writing the row). It returns the range
// boundaries: range k is [b[k], b[k+1]). Work split this way needs no atomics, and since each row
// is computed by exactly one worker in a fixed order, results do not depend on parts.
func (g *CSR) Partition(parts int) []int {
	n := g.NumDst
	if parts < 1 {
		parts = 1
	}
	if parts > n {
		parts = n
	}
	if n == 0 {
		return []int{0, 0}
	}
	total := len(g.ColIdx) + n
	b := make([]int, 1, parts+1)
	i := 0
	for k := 1; k < parts; k++ {
		target := total * k / parts
		for i < n && g.RowPtr[i]+i < target {
			i++
		}
		if i > b[len(b)-1] {
			b = append(b, i)
		}
	}
	return append(b, n)
}
