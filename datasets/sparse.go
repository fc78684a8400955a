package datasets

import (
	"fmt"
	"math"
	"sort"
)

// SparseMatrix is a Rows x Cols float32 matrix in compressed sparse row form: the stored entries
// of row i are at positions RowPtr[i] <= e < RowPtr[i+1], in column ColIdx[e] with value
// Values[e]. Columns are sorted and distinct within a row. The Planetoid features are about
// 1.3% non-zero (Cora: 49216 of 2708 x 1433), so they stay sparse until a caller asks for Dense.
//
// Matrices returned by this package are not modified afterwards and may be shared; RowNormalized
// returns a new matrix.
type SparseMatrix struct {
	Rows, Cols int
	RowPtr     []int
	ColIdx     []int32
	Values     []float32
}

// NNZ returns the number of stored entries.
func (m *SparseMatrix) NNZ() int { return len(m.ColIdx) }

// Row returns the columns and values of the stored entries of row i.
func (m *SparseMatrix) Row(i int) (cols []int32, vals []float32) {
	lo, hi := m.RowPtr[i], m.RowPtr[i+1]
	return m.ColIdx[lo:hi:hi], m.Values[lo:hi:hi]
}

// Dense returns the matrix as a row-major Rows*Cols slice: element (i, j) is at i*Cols+j.
func (m *SparseMatrix) Dense() []float32 {
	out := make([]float32, m.Rows*m.Cols)
	for i := 0; i < m.Rows; i++ {
		for e := m.RowPtr[i]; e < m.RowPtr[i+1]; e++ {
			out[i*m.Cols+int(m.ColIdx[e])] += m.Values[e]
		}
	}
	return out
}

// DenseF64 is Dense with float64 elements.
func (m *SparseMatrix) DenseF64() []float64 {
	out := make([]float64, m.Rows*m.Cols)
	for i := 0; i < m.Rows; i++ {
		for e := m.RowPtr[i]; e < m.RowPtr[i+1]; e++ {
			out[i*m.Cols+int(m.ColIdx[e])] += float64(m.Values[e])
		}
	}
	return out
}

// RowNormalized returns the matrix with each row divided by its sum, as Kipf & Welling's
// preprocessing does (D^-1 X); a row that sums to zero stays zero. The result shares RowPtr and
// ColIdx with m. Sums are taken in float64.
func (m *SparseMatrix) RowNormalized() *SparseMatrix {
	vals := make([]float32, len(m.Values))
	for i := 0; i < m.Rows; i++ {
		lo, hi := m.RowPtr[i], m.RowPtr[i+1]
		var sum float64
		for _, v := range m.Values[lo:hi] {
			sum += float64(v)
		}
		if sum == 0 {
			continue
		}
		for e := lo; e < hi; e++ {
			vals[e] = float32(float64(m.Values[e]) / sum)
		}
	}
	return &SparseMatrix{Rows: m.Rows, Cols: m.Cols, RowPtr: m.RowPtr, ColIdx: m.ColIdx, Values: vals}
}

// Validate checks the invariants of a hand-built matrix: sizes, monotone row pointers, columns
// in range and strictly increasing within each row, finite values.
func (m *SparseMatrix) Validate() error {
	if m.Rows < 0 || m.Cols < 0 || m.Cols > math.MaxInt32 {
		return fmt.Errorf("datasets: sparse matrix of %d x %d: want 0 <= rows and 0 <= cols <= %d", m.Rows, m.Cols, math.MaxInt32)
	}
	if len(m.RowPtr) != m.Rows+1 {
		return fmt.Errorf("datasets: RowPtr has %d entries, want Rows+1 = %d", len(m.RowPtr), m.Rows+1)
	}
	if len(m.Values) != len(m.ColIdx) {
		return fmt.Errorf("datasets: %d values for %d column indices", len(m.Values), len(m.ColIdx))
	}
	if m.RowPtr[0] != 0 || m.RowPtr[m.Rows] != len(m.ColIdx) {
		return fmt.Errorf("datasets: RowPtr runs from %d to %d, want 0 to NNZ = %d", m.RowPtr[0], m.RowPtr[m.Rows], len(m.ColIdx))
	}
	for i := 0; i < m.Rows; i++ {
		lo, hi := m.RowPtr[i], m.RowPtr[i+1]
		if hi < lo || hi > len(m.ColIdx) {
			return fmt.Errorf("datasets: RowPtr[%d..%d] = %d..%d is not monotone within [0, %d]", i, i+1, lo, hi, len(m.ColIdx))
		}
		for e := lo; e < hi; e++ {
			c := m.ColIdx[e]
			if c < 0 || int(c) >= m.Cols {
				return fmt.Errorf("datasets: entry %d of row %d: column %d out of range [0, %d)", e, i, c, m.Cols)
			}
			if e > lo && c <= m.ColIdx[e-1] {
				return fmt.Errorf("datasets: row %d: columns not strictly increasing at entry %d", i, e)
			}
			if v := float64(m.Values[e]); math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("datasets: entry (%d, %d) is %v, want a finite number", i, c, v)
			}
		}
	}
	return nil
}

// canonicalize sorts the columns of each row and sums duplicate entries. m must otherwise be
// valid.
func (m *SparseMatrix) canonicalize() {
	clean := true
	for i := 0; i < m.Rows && clean; i++ {
		for e := m.RowPtr[i] + 1; e < m.RowPtr[i+1]; e++ {
			if m.ColIdx[e] <= m.ColIdx[e-1] {
				clean = false
				break
			}
		}
	}
	if clean {
		return
	}
	out := 0
	start := 0
	for i := 0; i < m.Rows; i++ {
		lo, hi := start, m.RowPtr[i+1]
		start = hi
		sort.Stable(byCol{m.ColIdx[lo:hi], m.Values[lo:hi]})
		rowStart := out
		for e := lo; e < hi; e++ {
			if out > rowStart && m.ColIdx[out-1] == m.ColIdx[e] {
				m.Values[out-1] += m.Values[e]
				continue
			}
			m.ColIdx[out], m.Values[out] = m.ColIdx[e], m.Values[e]
			out++
		}
		m.RowPtr[i+1] = out
	}
	m.ColIdx, m.Values = m.ColIdx[:out:out], m.Values[:out:out]
}

type byCol struct {
	c []int32
	v []float32
}

func (b byCol) Len() int           { return len(b.c) }
func (b byCol) Less(i, j int) bool { return b.c[i] < b.c[j] }
func (b byCol) Swap(i, j int) {
	b.c[i], b.c[j] = b.c[j], b.c[i]
	b.v[i], b.v[j] = b.v[j], b.v[i]
}
