package blas

import (
	"runtime"
	"sync"
	"unsafe"

	"github.com/gnnlab/gognn/internal/kernels"
)

// Blocking (see doc.go). The micro-kernel computes an mr×nr tile of C; a k block of kcBlock
// steps keeps its B panel (kcBlock×nr, 16 KB) and A panel (6 KB) in the 32 KB L1, and a packed
// B block of kcBlock×ncBlock (256 KB) in half of the 512 KB L2 while every A panel of the
// worker's rows streams past it.
const (
	mr      = kernels.GemmMR
	nr      = kernels.GemmNR
	kcBlock = 256
	ncBlock = 256
	mcBlock = 132 // rows of a packed block of a transposed A (22 panels): 132 KB, beside B in L2
)

// A product with a small C (m*n <= kSplitMaxC) and a long k (k >= 2*kChunk), such as the
// weight gradient Xᵀ·G of a layer, is cut along k into chunks of kChunk steps whose partial
// products are summed in chunk order (see runKSplit): the threads share the k range instead of
// each packing all of B for its rows of C.
const (
	kChunk     = 8192
	kSplitMaxC = 1 << 16
)

// maxInPlaceLdb is the widest untransposed B (row stride, elements) whose panels the kernel
// reads in place instead of packing them: up to 1 KB between rows a 256-step panel spreads over
// enough L2 sets; wider power-of-two strides would pile it into a few. It saves the copy of B
// for every k block, which counts when m is small (the weight gradient Xᵀ·G).
const maxInPlaceLdb = 256

// maxInPlaceRows is the most rows of C a B block serves when it is read in place: packing
// costs about one cycle per element of B, a 1/(rows/16) share of the block's FMA time, so with
// many rows it pays for itself by the contiguous panels (no L1 set conflicts between rows of B).
const maxInPlaceRows = 256

// minParallelFlops is the product size (m*n*k) below which one goroutine does all the work: the
// start of a second costs about a microsecond, ~10^5 multiply-adds.
const minParallelFlops = 1 << 18

// sgemmJob is one checked Sgemm call with alpha != 0, k > 0, m > 0 and n > 0.
type sgemmJob struct {
	aTrans, bTrans bool
	m, n, k        int
	alpha, beta    float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	c              []float32
	ldc            int
	stream         bool // full tiles go through kernels.GemmStreamF32 (see streams)
}

// workspace holds one worker's packed panels.
type workspace struct {
	b    [kcBlock * ncBlock]float32 // ncBlock/nr panels of kc×nr
	a    [kcBlock * mcBlock]float32 // mcBlock/mr panels of mr×kc, step-major
	tile [mr * nr]float32           // an edge tile of C
}

var workspaces = sync.Pool{New: func() any { return new(workspace) }}

// threads is the number of goroutines for an m×n×k product: GOMAXPROCS, or 1 when small.
func threads(m, n, k int) int {
	if float64(m)*float64(n)*float64(k) < minParallelFlops {
		return 1
	}
	return runtime.GOMAXPROCS(0)
}

// run splits C into nt blocks of whole micro-tiles, along the dimension with more tiles, and
// computes each in its own goroutine. Each element of C is computed by one goroutine with the
// same k blocking whatever nt is, so the result is bit-identical for every nt.
func (j *sgemmJob) run(nt int) {
	if j.m*j.n <= kSplitMaxC && j.k >= 2*kChunk {
		j.runKSplit(nt)
		return
	}
	j.stream = j.streams()
	mt, ntl := (j.m+mr-1)/mr, (j.n+nr-1)/nr
	nt = max(1, min(nt, max(mt, ntl)))
	if nt == 1 {
		w := workspaces.Get().(*workspace)
		j.block(w, 0, j.m, 0, j.n)
		workspaces.Put(w)
		if j.stream {
			kernels.StoreFence()
		}
		return
	}
	j.parallel(nt, ntl > mt)
}

// maxPrefetchGap is the most elements between the end of a row's k block and the start of the
// next row's for which streamPanel has the kernel prefetch the next A panel as one region (the
// gaps are fetched too); past it the rows are requested one by one.
const maxPrefetchGap = 16

// streamMinC is the size of C (elements) from which a C written once is written with
// non-temporal stores: 8 MB, half the L3, would not stay cached for the caller anyway.
const streamMinC = 1 << 21

// streams reports whether C is written once (beta == 0 and one k block) and large enough to
// bypass the caches, with its full tiles' rows on cache-line boundaries (C's first element at
// a multiple of 64 bytes, ldc a multiple of 16; column blocks and panels start at multiples of
// nr): then full tiles are computed by kernels.GemmStreamF32, a row panel per call, and written
// with non-temporal stores, without the read for ownership of C's lines (25% of the memory
// traffic of X·W). The goroutine that wrote them fences (kernels.StoreFence) before it returns.
func (j *sgemmJob) streams() bool {
	return j.beta == 0 && j.k <= kcBlock && j.m*j.n >= streamMinC && j.ldc%nr == 0 &&
		uintptr(unsafe.Pointer(&j.c[0]))%64 == 0
}

// runKSplit computes C = alpha*(P_0 + P_1 + ...) + beta*C, P_c the product over the c-th
// chunk of kChunk steps, summed left to right. nt goroutines compute nt chunks at a time into
// their own buffers, which are then added in chunk order: the result depends on the shape only,
// never on nt. The decision to split depends on the shape only too.
func (j *sgemmJob) runKSplit(nt int) {
	job := *j // the closures of kSplit move this copy to the heap, not the caller's job
	job.kSplit(nt)
}

func (j *sgemmJob) kSplit(nt int) {
	nch := (j.k + kChunk - 1) / kChunk
	nt = max(1, min(nt, nch))
	mn := j.m * j.n
	bufs := make([]float32, (nt+1)*mn)
	sum := bufs[:mn]
	partial := func(t int) []float32 { return bufs[(t+1)*mn : (t+2)*mn] }
	chunk := func(c int, dst []float32) {
		p0 := c * kChunk
		sub := *j
		sub.k = min(kChunk, j.k-p0)
		sub.alpha, sub.beta = 1, 0
		sub.c, sub.ldc = dst, j.n
		sub.stream = false
		if j.aTrans {
			sub.a = j.a[p0*j.lda:]
		} else {
			sub.a = j.a[p0:]
		}
		if j.bTrans {
			sub.b = j.b[p0:]
		} else {
			sub.b = j.b[p0*j.ldb:]
		}
		w := workspaces.Get().(*workspace)
		sub.block(w, 0, j.m, 0, j.n)
		workspaces.Put(w)
	}
	for c0 := 0; c0 < nch; c0 += nt {
		wave := min(nt, nch-c0)
		var wg sync.WaitGroup
		for t := 1; t < wave; t++ {
			wg.Go(func() { chunk(c0+t, partial(t)) })
		}
		chunk(c0, partial(0))
		wg.Wait()
		for t := 0; t < wave; t++ {
			if c0+t == 0 {
				copy(sum, partial(t))
				continue
			}
			for i, v := range partial(t) {
				sum[i] += v
			}
		}
	}
	for i := 0; i < j.m; i++ {
		row, s := j.c[i*j.ldc:i*j.ldc+j.n], sum[i*j.n:(i+1)*j.n]
		if j.beta == 0 {
			for jj, v := range s {
				row[jj] = j.alpha * v
			}
			continue
		}
		for jj, v := range s {
			row[jj] = j.alpha*v + j.beta*row[jj]
		}
	}
}

// parallel runs part t of nt in goroutine t (0 is the caller's). It works on a copy of the job
// so that only this path, not the single-threaded one, moves the job to the heap.
func (j *sgemmJob) parallel(nt int, byCols bool) {
	job := *j
	var wg sync.WaitGroup
	for t := 1; t < nt; t++ {
		wg.Go(func() { job.part(t, nt, byCols) })
	}
	job.part(0, nt, byCols)
	wg.Wait()
}

// part computes the t-th of nt bands of whole tiles of C: bands of rows, or of columns.
func (j *sgemmJob) part(t, nt int, byCols bool) {
	size, dim := mr, j.m
	if byCols {
		size, dim = nr, j.n
	}
	tiles := (dim + size - 1) / size
	lo, hi := min(dim, t*tiles/nt*size), min(dim, (t+1)*tiles/nt*size)
	w := workspaces.Get().(*workspace)
	if byCols {
		j.block(w, 0, j.m, lo, hi)
	} else {
		j.block(w, lo, hi, 0, j.n)
	}
	workspaces.Put(w)
	if j.stream {
		kernels.StoreFence() // before wg.Done: the caller reads C after Wait
	}
}

// block computes rows [i0,i1) and columns [j0,j1) of C.
func (j *sgemmJob) block(w *workspace, i0, i1, j0, j1 int) {
	for jc := j0; jc < j1; jc += ncBlock {
		nc := min(ncBlock, j1-jc)
		for pc := 0; pc < j.k; pc += kcBlock {
			kc := min(kcBlock, j.k-pc)
			beta := j.beta
			if pc > 0 {
				beta = 1 // later k blocks add to what the first one wrote
			}
			bInPlace := !j.bTrans && j.ldb <= maxInPlaceLdb && i1-i0 <= maxInPlaceRows
			if bInPlace {
				if rest := nc % nr; rest != 0 { // only the last, partial panel needs padding
					j.packB(w.b[(nc-rest)*kc:], pc, kc, jc+nc-rest, rest)
				}
			} else {
				j.packB(w.b[:], pc, kc, jc, nc)
			}
			for ic := i0; ic < i1; ic += mcBlock {
				mc := min(mcBlock, i1-ic)
				pf := prefetchStep{next: pc + kc, ic: ic, mc: mc, jc: jc, nc: nc, withB: ic == i0}
				if j.aTrans {
					j.packAT(w.a[:], ic, mc, pc, kc)
					j.tilesPackedA(w, ic, mc, pc, kc, jc, nc, bInPlace, beta, pf)
				} else {
					j.tilesInPlaceA(w, ic, mc, i1, pc, kc, jc, nc, bInPlace, beta, pf)
				}
			}
		}
	}
}

// prefetchStep describes what the next k block will pack, so that the tile loops can request
// it a slice at a time (see prefetchPack).
type prefetchStep struct {
	next, ic, mc, jc, nc int
	withB                bool
}

// prefetchSlice requests part q of np of the next k block's packed inputs.
func (j *sgemmJob) prefetchSlice(pf prefetchStep, q, np int) {
	if pf.next >= j.k {
		return
	}
	nk := min(kcBlock, j.k-pf.next)
	j.prefetchPack(pf.next+q*nk/np, pf.next+(q+1)*nk/np, pf.ic, pf.mc, pf.jc, pf.nc, pf.withB)
}

// tilesInPlaceA computes the tiles of rows [ic, ic+mc) and columns [jc, jc+nc) of C for an
// untransposed A, read in place panel by panel: each A panel (6 rows) is loaded into L1 once
// and used against every B panel of the block before the next, which is prefetched meanwhile.
func (j *sgemmJob) tilesInPlaceA(w *workspace, ic, mc, i1, pc, kc, jc, nc int, bInPlace bool, beta float32, pf prefetchStep) {
	np := (mc + mr - 1) / mr
	for ir := 0; ir < mc; ir += mr {
		mi := min(mr, mc-ir)
		ap, rs, cs := j.a[(ic+ir)*j.lda+pc:], j.lda, 1 // rows are contiguous in k
		if mi < mr {
			ap, rs, cs = w.a[:], 1, mr
			j.packA(ap, ic+ir, mi, pc, kc)
		}
		if j.stream && mi == mr && nc >= nr {
			j.streamPanel(w, ap, ic+ir, i1, pc, kc, jc, nc, bInPlace)
			continue
		}
		j.prefetchNext(ic+ir+mr, min(i1, ic+ir+2*mr), pc, kc, jc, nc)
		j.prefetchSlice(pf, ir/mr, np)
		for jr := 0; jr < nc; jr += nr {
			j.tile(w, ap, rs, cs, ic+ir, mi, pc, kc, jc, jr, nc, bInPlace, beta)
		}
	}
}

// streamPanel computes the full tiles of the row panel at row i (rows i..i+mr-1 of an
// untransposed A, in place) in one kernels.GemmStreamF32 call, which also requests the next panel
// of A into L1 when its rows are contiguous enough, and the partial tile at the right edge,
// if any, by tile.
func (j *sgemmJob) streamPanel(w *workspace, ap []float32, i, i1, pc, kc, jc, nc int, bInPlace bool) {
	full := nc / nr
	bp, ldb, bstep := w.b[:], nr, kc*nr
	if bInPlace {
		bp, ldb, bstep = j.b[pc*j.ldb+jc:], j.ldb, nr
	}
	var pf []float32
	if next := i + mr; next+mr <= i1 && j.lda-kc <= maxPrefetchGap {
		pf = j.a[next*j.lda+pc : (next+mr-1)*j.lda+pc+kc]
	} else {
		j.prefetchNext(next, min(i1, next+mr), pc, kc, jc, nc)
	}
	kernels.GemmStreamF32(kc, ap, j.lda, 1, bp, ldb, bstep, full, j.c[i*j.ldc+jc:], j.ldc, j.alpha, pf)
	for jr := full * nr; jr < nc; jr += nr {
		j.tile(w, ap, j.lda, 1, i, mr, pc, kc, jc, jr, nc, bInPlace, 0)
	}
}

// tilesPackedA is tilesInPlaceA for a packed (transposed) A, in the other order: each B panel
// stays in L1 while the packed A panels of the block, in L2, stream past it.
func (j *sgemmJob) tilesPackedA(w *workspace, ic, mc, pc, kc, jc, nc int, bInPlace bool, beta float32, pf prefetchStep) {
	np := (nc + nr - 1) / nr
	for jr := 0; jr < nc; jr += nr {
		j.prefetchSlice(pf, jr/nr, np)
		for ir := 0; ir < mc; ir += mr {
			j.tile(w, w.a[ir*kc:], 1, mr, ic+ir, min(mr, mc-ir), pc, kc, jc, jr, nc, bInPlace, beta)
		}
	}
}

// tile computes the tile of C at row i (mi rows valid) and column jc+jr from the A panel ap
// and B panel jr/nr of the k block at pc.
func (j *sgemmJob) tile(w *workspace, ap []float32, rs, cs, i, mi, pc, kc, jc, jr, nc int, bInPlace bool, beta float32) {
	nj := min(nr, nc-jr)
	bp, ldb := w.b[jr*kc:], nr
	if bInPlace && nj == nr {
		bp, ldb = j.b[pc*j.ldb+jc+jr:], j.ldb
	}
	ci := i*j.ldc + jc + jr
	if mi == mr && nj == nr {
		if j.stream {
			kernels.GemmStreamF32(kc, ap, rs, cs, bp, ldb, 0, 1, j.c[ci:], j.ldc, j.alpha, nil)
			return
		}
		kernels.GemmKernelF32(kc, ap, rs, cs, bp, ldb, j.c[ci:], j.ldc, j.alpha, beta)
		return
	}
	j.edge(w, kc, ap, rs, cs, bp, ldb, ci, mi, nj, beta)
}

// prefetchNext requests rows [i, i2) of an untransposed A (steps pc..pc+kc) and of C (columns
// jc..jc+nc), the next panel, so that they arrive from memory while the kernel works on this
// one: the hardware prefetchers do not follow six interleaved row streams well enough.
func (j *sgemmJob) prefetchNext(i, i2, pc, kc, jc, nc int) {
	for ; i < i2; i++ {
		if !j.aTrans {
			kernels.PrefetchF32(j.a[i*j.lda+pc : i*j.lda+pc+kc])
		}
		if !j.stream {
			kernels.PrefetchF32(j.c[i*j.ldc+jc : i*j.ldc+jc+nc])
		}
	}
}

// prefetchPack requests steps [p0, p1) of what packAT (rows [ic, ic+mc) of a transposed A) and,
// if withB, packB (columns [jc, jc+nc)) read: the next k block's packing then finds them in
// cache instead of waiting for memory.
func (j *sgemmJob) prefetchPack(p0, p1, ic, mc, jc, nc int, withB bool) {
	for p := p0; p < p1; p++ {
		if j.aTrans {
			kernels.PrefetchL2F32(j.a[p*j.lda+ic : p*j.lda+ic+mc])
		}
		if withB && !j.bTrans {
			kernels.PrefetchL2F32(j.b[p*j.ldb+jc : p*j.ldb+jc+nc])
		}
	}
}

// edge computes an mi×nj corner tile (mi < mr or nj < nr) in w.tile, whose rows and columns
// past the corner come from the zero padding of the packed panels, and copies it into C.
func (j *sgemmJob) edge(w *workspace, kc int, ap []float32, rs, cs int, bp []float32, ldb, ci, mi, nj int, beta float32) {
	t := w.tile[:]
	if beta != 0 {
		for r := 0; r < mi; r++ {
			copy(t[r*nr:r*nr+nj], j.c[ci+r*j.ldc:])
		}
	}
	kernels.GemmKernelF32(kc, ap, rs, cs, bp, ldb, t, nr, j.alpha, beta)
	for r := 0; r < mi; r++ {
		copy(j.c[ci+r*j.ldc:ci+r*j.ldc+nj], t[r*nr:r*nr+nj])
	}
}

// packA writes rows [ic, ic+mi) and steps [pc, pc+kc) of an untransposed A into dst as one
// panel, step-major (dst[p*mr+r] = A[ic+r, pc+p]), rows mi..mr-1 zero. Only the last rows of A,
// fewer than mr, are packed: full panels are read in place.
func (j *sgemmJob) packA(dst []float32, ic, mi, pc, kc int) {
	dst = dst[:kc*mr]
	clear(dst)
	for r := 0; r < mi; r++ {
		src := j.a[(ic+r)*j.lda+pc:]
		src = src[:kc]
		for p, v := range src {
			dst[p*mr+r] = v
		}
	}
}

// packAT writes rows [ic, ic+mc) and steps [pc, pc+kc) of op(A) = Aᵀ into dst as panels of mr
// rows, each step-major (panel q at dst[q*kc*mr:], element [r, p] at p*mr+r), rows past mc
// zero. op(A)[i, p] = a[p*lda+i]: it reads mc contiguous values per step, a row of A.
func (j *sgemmJob) packAT(dst []float32, ic, mc, pc, kc int) {
	full := mc / mr
	for p := 0; p < kc; p++ {
		src := j.a[(pc+p)*j.lda+ic:]
		src = src[:mc]
		for q := 0; q < full; q++ {
			copy6((*[mr]float32)(dst[q*kc*mr+p*mr:]), (*[mr]float32)(src[q*mr:]))
		}
		if rest := mc - full*mr; rest > 0 {
			d := (*[mr]float32)(dst[full*kc*mr+p*mr:])
			*d = [mr]float32{}
			copy(d[:rest], src[full*mr:])
		}
	}
}

// packB writes steps [pc, pc+kc) and columns [jc, jc+nc) of op(B) into dst as panels of nr
// columns, each kc×nr step-major (panel q at dst[q*kc*nr:], element [p, jj] at p*nr+jj), the
// columns past nc zero.
func (j *sgemmJob) packB(dst []float32, pc, kc, jc, nc int) {
	for q := 0; q*nr < nc; q++ {
		nj := min(nr, nc-q*nr)
		d := dst[q*kc*nr : (q+1)*kc*nr]
		col := jc + q*nr
		if !j.bTrans {
			// op(B)[p, j] = b[p*ldb+j]: the nr values of a step are contiguous.
			for p := 0; p < kc; p++ {
				dp := (*[nr]float32)(d[p*nr:])
				src := j.b[(pc+p)*j.ldb+col:]
				if nj == nr {
					copy16(dp, (*[nr]float32)(src))
					continue
				}
				*dp = [nr]float32{}
				copy(dp[:nj], src)
			}
			continue
		}
		// op(B)[p, j] = b[j*ldb+p]: each column is contiguous in p.
		if nj < nr {
			clear(d)
		}
		for jj := 0; jj < nj; jj++ {
			src := j.b[(col+jj)*j.ldb+pc:]
			src = src[:kc]
			for p, v := range src {
				d[p*nr+jj] = v
			}
		}
	}
}

// copy6 and copy16 copy element by element: an array assignment or copy() of this size would
// call runtime.memmove, which costs more than the copy.
func copy6(d, s *[mr]float32) {
	d[0], d[1], d[2], d[3], d[4], d[5] = s[0], s[1], s[2], s[3], s[4], s[5]
}

func copy16(d, s *[nr]float32) {
	d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
	d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15] = s[8], s[9], s[10], s[11], s[12], s[13], s[14], s[15]
}
