package infer

import (
	"math"
	"runtime"
	"sync"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops/asm"
)

// linear is a dense layer, y = x W + b, with W (in, out) row-major and b (out) or nil.
type linear struct {
	in, out int
	w, b    []float32
}

// apply returns x W + b for the rows x (rows, in).
func (l linear) apply(x []float32, rows int) []float32 {
	y := make([]float32, rows*l.out)
	byRows(rows, l.in*l.out, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			yi := y[i*l.out : (i+1)*l.out]
			copy(yi, l.b) // nil b leaves the zeros
			for k, v := range x[i*l.in : (i+1)*l.in] {
				if v != 0 { // node features are often sparse (bag of words)
					asm.AxpyF32(v, l.w[k*l.out:(k+1)*l.out], yi)
				}
			}
		}
	})
	return y
}

// byRows calls f on consecutive ranges [lo, hi) covering 0..n, in parallel over GOMAXPROCS
// goroutines when the work (n rows of cost each) is worth it. Each row is computed by one
// goroutine in one order, so results do not depend on the number of threads.
func byRows(n, cost int, f func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 || n < 2 || n*max(cost, 1) < 1<<16 {
		f(0, n)
		return
	}
	workers = min(workers, n)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}

// relu sets x to max(x, 0) in place.
func relu(x []float32) {
	for i, v := range x {
		if v < 0 {
			x[i] = 0
		}
	}
}

// elu sets x to ELU(x) = x if x > 0, else exp(x) - 1, in place.
func elu(x []float32) {
	for i, v := range x {
		if v <= 0 {
			x[i] = float32(math.Expm1(float64(v)))
		}
	}
}

// gcnLayer is nn.GCNConv: X' = A' X W + b over the normalised graph A' (Model.graph), then ReLU
// on the first layer.
type gcnLayer struct {
	lin   linear // without bias: the bias is added after propagating
	bias  []float32
	first bool
}

func (p *params) gcn(name string, in, out int, first bool) *gcnLayer {
	return &gcnLayer{lin: p.linear(name+".lin", in, out, false), bias: p.get(name+".bias", out), first: first}
}

func (l *gcnLayer) forward(g *graph.CSR, x []float32) []float32 {
	xw := l.lin.apply(x, g.NumSrc)
	out := aggregate(g, xw, l.lin.out, g.Weights, false)
	addBias(out, l.bias)
	if l.first {
		relu(out)
	}
	return out
}

// aggregate returns out[i] = sum_{e into i} weight[e] x[ColIdx[e]] (weight nil: 1), divided by
// i's in-degree when mean (a node without in-edges gets zeros), for x of the given width.
func aggregate(g *graph.CSR, x []float32, width int, weight []float32, mean bool) []float32 {
	out := make([]float32, g.NumDst*width)
	byRows(g.NumDst, width*max(len(g.ColIdx)/max(g.NumDst, 1), 1), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			a, b := g.RowPtr[i], g.RowPtr[i+1]
			var alpha []float32
			if weight != nil {
				alpha = weight[a:b]
			}
			oi := out[i*width : (i+1)*width]
			asm.GatherSumF32(oi, x, width, g.ColIdx[a:b], alpha)
			if mean && b > a {
				asm.ScaleF32(1/float32(b-a), oi)
			}
		}
	})
	return out
}

// addBias adds b to every row of x (width len(b)).
func addBias(x, b []float32) {
	for i := 0; i < len(x); i += len(b) {
		asm.AxpyF32(1, b, x[i:i+len(b)])
	}
}

// sageLayer is nn.SAGEConv as models.NewSAGE configures it (root weight, no normalisation):
//
//	x'_i = W_l agg_{j -> i} p(x_j) + b_l + W_r x_i
//
// with p the identity for mean and sum, relu(W_pool x + b_pool) for max, and a projection
// followed by an LSTM over the neighbours in edge order for lstm; then ReLU on the first layer.
type sageLayer struct {
	aggr       string
	linL, linR linear
	both       linear // mean and sum: [W_l | W_r], to project x once for both
	pool       linear // max: with bias; lstm: the projection, without
	seq        lstm
	first      bool
}

func (p *params) sage(name, aggr string, in, out, poolHidden int, first bool) *sageLayer {
	l := &sageLayer{aggr: aggr, first: first}
	lin := in
	switch aggr {
	case "max":
		l.pool = p.linear(name+".pool", in, poolHidden, true)
		lin = poolHidden
	case "lstm":
		l.pool = p.linear(name+".proj", in, poolHidden, false)
		l.seq = lstm{
			hidden: poolHidden,
			wx:     p.get(name+".lstm.weight_ih", poolHidden, 4*poolHidden),
			wh:     p.get(name+".lstm.weight_hh", poolHidden, 4*poolHidden),
			b:      p.get(name+".lstm.bias", 4*poolHidden),
		}
		lin = poolHidden
	}
	l.linL = p.linear(name+".lin_l", lin, out, true)
	l.linR = p.linear(name+".lin_r", in, out, false)
	if (aggr == "mean" || aggr == "sum") && l.linL.w != nil && l.linR.w != nil {
		l.both = joined(l.linL.w, l.linR.w, in, out)
	}
	return l
}

// joined returns the linear map x -> [x A | x B] for A and B of shape (in, out), without bias.
func joined(a, b []float32, in, out int) linear {
	w := make([]float32, 0, 2*in*out)
	for k := 0; k < in; k++ {
		w = append(append(w, a[k*out:(k+1)*out]...), b[k*out:(k+1)*out]...)
	}
	return linear{in: in, out: 2 * out, w: w}
}

// splitJoined returns x A, (rows, out), and the first bRows rows of x B, (bRows, out), from h,
// the output of a joined map: rows of [x A | x B]. bRows <= rows.
func splitJoined(h []float32, rows, bRows, out int) (a, b []float32) {
	a, b = make([]float32, rows*out), make([]float32, bRows*out)
	for i := 0; i < rows; i++ {
		copy(a[i*out:(i+1)*out], h[2*i*out:(2*i+1)*out])
		if i < bRows {
			copy(b[i*out:(i+1)*out], h[(2*i+1)*out:(2*i+2)*out])
		}
	}
	return a, b
}

func (l *sageLayer) forward(g *graph.CSR, x []float32) []float32 {
	n, out := g.NumDst, l.linL.out
	var neigh, self []float32 // W_l agg p(x) + b_l and W_r x, (n, out)
	switch l.aggr {
	case "mean", "sum":
		mean := l.aggr == "mean"
		if l.linR.in >= out {
			// Aggregation is linear: project first, gathering the narrower rows (as nn.SAGEConv),
			// with x W_l and x W_r in one pass over x.
			var xw []float32
			xw, self = splitJoined(l.both.apply(x, g.NumSrc), g.NumSrc, n, out)
			neigh = aggregate(g, xw, out, nil, mean)
			addBias(neigh, l.linL.b)
		} else {
			neigh = l.linL.apply(aggregate(g, x, l.linR.in, nil, mean), n)
		}
	case "max":
		p := l.pool.apply(x, g.NumSrc)
		relu(p)
		neigh = l.linL.apply(maxAggregate(g, p, l.pool.out), n)
	default: // lstm
		p := l.pool.apply(x, g.NumSrc)
		neigh = l.linL.apply(l.seq.aggregate(g, p), n)
	}
	if self == nil {
		self = l.linR.apply(x[:n*l.linR.in], n)
	}
	for i, v := range self {
		neigh[i] += v
	}
	if l.first {
		relu(neigh)
	}
	return neigh
}

// maxAggregate returns out[i] = the element-wise maximum of x over i's in-neighbours (zeros for
// a node without in-edges), for x of the given width.
func maxAggregate(g *graph.CSR, x []float32, width int) []float32 {
	out := make([]float32, g.NumDst*width)
	byRows(g.NumDst, width*max(len(g.ColIdx)/max(g.NumDst, 1), 1), func(lo, hi int) {
		arg := make([]int32, width)
		for i := lo; i < hi; i++ {
			a, b := g.RowPtr[i], g.RowPtr[i+1]
			asm.GatherMaxF32(out[i*width:(i+1)*width], arg, x, width, g.ColIdx[a:b], 0)
		}
	})
	return out
}

// lstm is nn.LSTM in evaluation order: for each destination, over its in-neighbours' rows in
// edge order,
//
//	[i f g o] = x_t Wx + h_{t-1} Wh + b,   c_t = sigm(f) c_{t-1} + sigm(i) tanh(g),   h_t = sigm(o) tanh(c_t)
//
// from h_0 = c_0 = 0; the result is the last h (zeros without in-edges).
type lstm struct {
	hidden    int
	wx, wh, b []float32 // (hidden, 4 hidden), (hidden, 4 hidden), (4 hidden)
}

// aggregate returns the LSTM's last hidden state for every destination of g over the rows of
// p (NumSrc, hidden).
func (s lstm) aggregate(g *graph.CSR, p []float32) []float32 {
	H := s.hidden
	out := make([]float32, g.NumDst*H)
	byRows(g.NumDst, 8*H*H*max(len(g.ColIdx)/max(g.NumDst, 1), 1), func(lo, hi int) {
		z := make([]float32, 4*H)
		c := make([]float32, H)
		for i := lo; i < hi; i++ {
			h := out[i*H : (i+1)*H]
			clear(c)
			for _, j := range g.ColIdx[g.RowPtr[i]:g.RowPtr[i+1]] {
				copy(z, s.b)
				for k, v := range p[int(j)*H : (int(j)+1)*H] {
					asm.AxpyF32(v, s.wx[k*4*H:(k+1)*4*H], z)
				}
				for k, v := range h {
					asm.AxpyF32(v, s.wh[k*4*H:(k+1)*4*H], z)
				}
				for u := 0; u < H; u++ {
					ig, fg := sigmoid(z[u]), sigmoid(z[H+u])
					gg, og := tanh(z[2*H+u]), sigmoid(z[3*H+u])
					c[u] = fg*c[u] + ig*gg
					h[u] = og * tanh(c[u])
				}
			}
		}
	})
	return out
}

func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

func tanh(x float32) float32 { return float32(math.Tanh(float64(x))) }

// gatLayer is nn.GATConv as models.NewGAT configures it (LeakyReLU slope 0.2, self-loops added
// by Model.graph):
//
//	alpha_ij^h = softmax_j( LeakyReLU( a_dst^h . W^h x_i + a_src^h . W^h x_j ) )
//	x'_i       = ||_h sum_j alpha_ij^h W^h x_j   (or the mean over h) + b
//
// then ELU on the first layer (whose heads are concatenated; the second's are averaged).
type gatLayer struct {
	lin            linear // to heads*out, without bias
	heads, out     int
	attSrc, attDst []float32 // (heads*out): head h's vector at h*out .. (h+1)*out-1
	bias           []float32
	first          bool // concatenate the heads and apply ELU
}

// gatSlope is the LeakyReLU slope of the attention logits (nn.DefaultNegativeSlope).
const gatSlope = 0.2

func (p *params) gat(name string, in, out, heads int, first bool) *gatLayer {
	hf := heads * out
	width := out
	if first {
		width = hf
	}
	return &gatLayer{
		lin: p.linear(name+".lin", in, hf, false), heads: heads, out: out,
		attSrc: p.get(name+".att_src", hf, 1), attDst: p.get(name+".att_dst", hf, 1),
		bias: p.get(name+".bias", width), first: first,
	}
}

func (l *gatLayer) forward(g *graph.CSR, x []float32) []float32 {
	H, F := l.heads, l.out
	hf := H * F
	h := l.lin.apply(x, g.NumSrc)
	src := l.scores(h, l.attSrc, g.NumSrc)
	dst := l.scores(h, l.attDst, g.NumDst)
	width := F
	if l.first {
		width = hf
	}
	out := make([]float32, g.NumDst*width)
	maxDeg := 0
	for i := 0; i < g.NumDst; i++ {
		maxDeg = max(maxDeg, g.RowPtr[i+1]-g.RowPtr[i])
	}
	byRows(g.NumDst, hf*max(len(g.ColIdx)/max(g.NumDst, 1), 1), func(lo, hi int) {
		alpha := make([]float32, maxDeg)
		acc := make([]float32, hf)
		for i := lo; i < hi; i++ {
			nbrs := g.ColIdx[g.RowPtr[i]:g.RowPtr[i+1]]
			clear(acc)
			for head := 0; head < H; head++ {
				softmax(alpha[:len(nbrs)], nbrs, src, dst[i*H+head], H, head)
				a := acc[head*F : (head+1)*F]
				for k, j := range nbrs {
					o := int(j)*hf + head*F
					asm.AxpyF32(alpha[k], h[o:o+F], a)
				}
			}
			oi := out[i*width : (i+1)*width]
			if l.first {
				copy(oi, acc)
			} else {
				for head := 0; head < H; head++ {
					asm.AxpyF32(1/float32(H), acc[head*F:(head+1)*F], oi)
				}
			}
		}
	})
	addBias(out, l.bias)
	if l.first {
		elu(out)
	}
	return out
}

// scores returns s[j*H+h] = the dot product of head h's block of row j of v (rows, H*F) with
// head h's block of att.
func (l *gatLayer) scores(v, att []float32, rows int) []float32 {
	H, F := l.heads, l.out
	s := make([]float32, rows*H)
	for j := 0; j < rows; j++ {
		for h := 0; h < H; h++ {
			o := j*H*F + h*F
			s[j*H+h] = asm.DotF32(v[o:o+F], att[h*F:(h+1)*F])
		}
	}
	return s
}

// softmax sets alpha[k] = the softmax over k of LeakyReLU(src[nbrs[k]*heads+head] + dstScore).
func softmax(alpha []float32, nbrs []int32, src []float32, dstScore float32, heads, head int) {
	top := float32(math.Inf(-1))
	for k, j := range nbrs {
		e := src[int(j)*heads+head] + dstScore
		if e < 0 {
			e *= gatSlope
		}
		alpha[k] = e
		top = max(top, e)
	}
	var sum float64
	for k, e := range alpha {
		v := math.Exp(float64(e - top))
		alpha[k] = float32(v)
		sum += v
	}
	for k := range alpha {
		alpha[k] = float32(float64(alpha[k]) / sum)
	}
}
