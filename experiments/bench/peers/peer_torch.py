"""Plain-PyTorch peer of experiments/bench: the same six workloads on the same graph, features
and labels, each done the ways PyTorch offers (torch.sparse.mm of a CSR or COO adjacency, and
gather + index_add_), every variant timed and reported; the Go side takes the fastest.

usage: /usr/bin/python3 peer_torch.py -dir DIR [-threads 2] [-repeat 20] [-warmup 2] [-budget 15] [-ops a,b] [-variants csr,coo,index_add]

DIR is written by bench.WritePeerData (header.json, rowptr.i32, col.i32, x.f32, labels.i32,
gcn_w.f32, gcn_b.f32, check_*.f32). Before timing, aggregate_mean and gcn_forward (with our
weights) are checked against the Go outputs' first rows; a disagreement aborts the run.
Prints one JSON object on stdout.

The workloads (F = 128 inputs, hidden 64, 16 classes):
  aggregate_mean    mean of in-neighbour features
  gcn_forward       x W, sum over in-edges + self-loops weighted d_i^-1/2 d_j^-1/2, + b
  gat_forward       8 heads x 8 concatenated, self-loops, LeakyReLU 0.2, softmax over in-edges
  gatv2_forward     GATv2 (PyG GATv2Conv), 8 heads x 8, self-loops: index_select + index_add_
  gin_forward       GIN (PyG GINConv, eps 0), MLP 128->64->64: index_select + index_add_
  sage2_forward     two SAGE-mean layers 128->64->64: lin_l(mean) + lin_r(self), ReLU between
  gcn2_train_step   GCN 128->64->16, cross-entropy over all nodes, backward, one Adam step
  sage2_train_step  SAGE 128->64->16, the same
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

# Variants whose gathered (E, F) intermediate would exceed this many bytes are skipped.
GATHER_LIMIT = 3 << 30


def load(d):
    h = json.load(open(d + "/header.json"))
    n, f = h["n"], h["f"]
    rd = lambda name, dt: torch.from_numpy(np.fromfile(d + "/" + name, dtype=dt))
    crow = rd("rowptr.i32", "<i4").long()
    col = rd("col.i32", "<i4").long()
    x = rd("x.f32", "<f4").reshape(n, f)
    labels = rd("labels.i32", "<i4").long()
    checks = {
        "aggregate_mean": rd("check_aggregate_mean.f32", "<f4").reshape(h["check_rows"], f),
        "gcn_forward": rd("check_gcn_forward.f32", "<f4").reshape(h["check_rows"], h["hidden"]),
    }
    gw = rd("gcn_w.f32", "<f4").reshape(f, h["hidden"])
    gb = rd("gcn_b.f32", "<f4")
    return h, crow, col, x, labels, checks, gw, gb


class Graph:
    """The graph in every form the variants need, built once, outside the timings."""

    def __init__(self, n, crow, col):
        self.n = n
        deg = (crow[1:] - crow[:-1]).float()
        self.row = torch.repeat_interleave(torch.arange(n), crow[1:] - crow[:-1])
        self.col = col
        self.inv_deg = (1 / deg.clamp(min=1)).unsqueeze(1)
        mean_w = self.inv_deg.squeeze(1)[self.row]
        self.mean_csr = torch.sparse_csr_tensor(crow, col, mean_w, size=(n, n))
        self.mean_coo = torch.sparse_coo_tensor(torch.stack([self.row, col]), mean_w, size=(n, n)).coalesce()
        # With self-loops (the random graph has none), sorted by destination then source.
        loops = torch.arange(n)
        row2 = torch.cat([self.row, loops])
        col2 = torch.cat([col, loops])
        order = torch.argsort(row2 * n + col2)
        self.row2, self.col2 = row2[order], col2[order]
        self.crow2 = torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum(torch.bincount(self.row2, minlength=n), 0)])
        dinv = (deg + 1).rsqrt()
        self.gcn_w = dinv[self.row2] * dinv[self.col2]
        self.gcn_csr = torch.sparse_csr_tensor(self.crow2, self.col2, self.gcn_w, size=(n, n))
        self.gcn_coo = torch.sparse_coo_tensor(torch.stack([self.row2, self.col2]), self.gcn_w, size=(n, n)).coalesce()
        self.gcn_wcol = self.gcn_w.unsqueeze(1)


def mean_agg(g, x, how):
    if how == "csr":
        return torch.sparse.mm(g.mean_csr, x)
    if how == "coo":
        return torch.sparse.mm(g.mean_coo, x)
    return torch.zeros(g.n, x.shape[1]).index_add_(0, g.row, x[g.col]) * g.inv_deg


def gcn_prop(g, h, how):
    if how == "csr":
        return torch.sparse.mm(g.gcn_csr, h)
    if how == "coo":
        return torch.sparse.mm(g.gcn_coo, h)
    return torch.zeros(g.n, h.shape[1]).index_add_(0, g.row2, h[g.col2] * g.gcn_wcol)


class GCN(torch.nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.lins = torch.nn.ModuleList(torch.nn.Linear(a, b, bias=False) for a, b in zip(dims, dims[1:]))
        self.biases = torch.nn.ParameterList(torch.nn.Parameter(torch.zeros(b)) for b in dims[1:])

    def forward(self, g, x, how):
        for k, (lin, b) in enumerate(zip(self.lins, self.biases)):
            if k:
                x = F.relu(x)
            x = gcn_prop(g, lin(x), how) + b
        return x


class SAGE(torch.nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.lin_l = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(dims, dims[1:]))
        self.lin_r = torch.nn.ModuleList(torch.nn.Linear(a, b, bias=False) for a, b in zip(dims, dims[1:]))

    def forward(self, g, x, how):
        for k, (ll, lr) in enumerate(zip(self.lin_l, self.lin_r)):
            if k:
                x = F.relu(x)
            if ll.in_features > ll.out_features:
                # Mean is linear: project first, aggregate the narrower rows (as gognn does).
                neigh = mean_agg(g, F.linear(x, ll.weight), how) + ll.bias
            else:
                neigh = ll(mean_agg(g, x, how))
            x = neigh + lr(x)
        return x


class GAT(torch.nn.Module):
    def __init__(self, f, heads, out):
        super().__init__()
        self.heads, self.out = heads, out
        self.lin = torch.nn.Linear(f, heads * out, bias=False)
        self.att_src = torch.nn.Parameter(torch.randn(1, heads, out) * 0.3)
        self.att_dst = torch.nn.Parameter(torch.randn(1, heads, out) * 0.3)
        self.bias = torch.nn.Parameter(torch.zeros(heads * out))

    def forward(self, g, x, how):
        n, H, C = g.n, self.heads, self.out
        h = self.lin(x).view(n, H, C)
        a_s = (h * self.att_src).sum(-1)
        a_d = (h * self.att_dst).sum(-1)
        e = F.leaky_relu(a_s[g.col2] + a_d[g.row2], 0.2)  # (E', H)
        if how == "csr":
            # Edges are sorted by destination: segment reductions over the CSR row lengths.
            lengths = g.crow2[1:] - g.crow2[:-1]
            m = torch.segment_reduce(e, "max", lengths=lengths, axis=0)
            ex = (e - m[g.row2]).exp()
            s = torch.segment_reduce(ex, "sum", lengths=lengths, axis=0)
            alpha = ex / s[g.row2]
            hf = h.reshape(n, H * C)
            outs = [torch.sparse.mm(torch.sparse_csr_tensor(g.crow2, g.col2, alpha[:, k].contiguous(), size=(n, n)),
                                    hf[:, k * C:(k + 1) * C]) for k in range(H)]
            return torch.cat(outs, 1) + self.bias
        # PyTorch Geometric's way: scatter max, exp, scatter sum, gather-multiply-scatter.
        m = torch.full((n, H), float("-inf")).scatter_reduce(0, g.row2.unsqueeze(1).expand(-1, H), e, "amax", include_self=True)
        ex = (e - m[g.row2]).exp()
        s = torch.zeros(n, H).index_add_(0, g.row2, ex)
        alpha = ex / s[g.row2]
        out = torch.zeros(n, H, C).index_add_(0, g.row2, h[g.col2] * alpha.unsqueeze(-1))
        return out.reshape(n, H * C) + self.bias


class GATv2(torch.nn.Module):
    """PyTorch Geometric's GATv2Conv written out: x_j W_l + x_i W_r per edge, LeakyReLU, a
    per-head score, softmax over in-edges by scatter, weighted sum by index_add_."""

    def __init__(self, f, heads, out):
        super().__init__()
        self.heads, self.out = heads, out
        self.lin_l = torch.nn.Linear(f, heads * out, bias=False)
        self.lin_r = torch.nn.Linear(f, heads * out, bias=False)
        self.att = torch.nn.Parameter(torch.randn(1, heads, out) * 0.3)
        self.bias = torch.nn.Parameter(torch.zeros(heads * out))

    def forward(self, g, x, how):
        n, H, C = g.n, self.heads, self.out
        xl = self.lin_l(x).view(n, H, C)
        xr = self.lin_r(x).view(n, H, C)
        xj = xl.index_select(0, g.col2)
        z = F.leaky_relu(xj + xr.index_select(0, g.row2), 0.2)
        e = (z * self.att).sum(-1)  # (E', H)
        m = torch.full((n, H), float("-inf")).scatter_reduce(0, g.row2.unsqueeze(1).expand(-1, H), e, "amax", include_self=True)
        ex = (e - m.index_select(0, g.row2)).exp()
        s = torch.zeros(n, H).index_add_(0, g.row2, ex)
        alpha = ex / s.index_select(0, g.row2)
        out = torch.zeros(n, H, C).index_add_(0, g.row2, xj * alpha.unsqueeze(-1))
        return out.reshape(n, H * C) + self.bias


class GIN(torch.nn.Module):
    """PyTorch Geometric's GINConv(MLP) with eps = 0: (1 + eps) x + sum of in-neighbours by
    index_select + index_add_, then Linear, ReLU, Linear."""

    def __init__(self, f, hid):
        super().__init__()
        self.eps = 0.0
        self.mlp = torch.nn.Sequential(torch.nn.Linear(f, hid), torch.nn.ReLU(), torch.nn.Linear(hid, hid))

    def forward(self, g, x, how):
        agg = torch.zeros_like(x).index_add_(0, g.row, x.index_select(0, g.col))
        return self.mlp((1 + self.eps) * x + agg)


def timed(fn, repeat, warmup, budget):
    """p50 and min of up to repeat runs after warmup; slow variants stop after budget seconds
    of timed runs (at least 3 runs), so one slow way cannot hold the whole benchmark."""
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < repeat and (len(times) < 3 or time.perf_counter() - start < budget):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times), len(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("-dir", required=True)
    p.add_argument("-threads", type=int, default=2)
    p.add_argument("-repeat", type=int, default=20)
    p.add_argument("-warmup", type=int, default=2)
    p.add_argument("-budget", type=float, default=15, help="seconds of timed runs per variant, at least 3 runs")
    p.add_argument("-variants", default="csr,coo,index_add", help="which ways to run: csr, coo, index_add, or fast (CSR; scatter for GAT)")
    p.add_argument("-ops", default="aggregate_mean,gcn_forward,gat_forward,gatv2_forward,gin_forward,sage2_forward,gcn2_train_step,sage2_train_step")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    h, crow, col, x, labels, checks, gw, gb = load(a.dir)
    n, f, hid, cls = h["n"], h["f"], h["hidden"], h["classes"]
    g = Graph(n, crow, col)
    k = h["check_rows"]
    out = {"name": "PyTorch " + torch.__version__, "threads": torch.get_num_threads(), "checks": {}, "results": []}

    # Same inputs, same answers: check two outputs against the Go side's before timing anything.
    with torch.no_grad():
        for how in ("csr", "coo", "index_add"):
            d1 = (mean_agg(g, x, how)[:k] - checks["aggregate_mean"]).abs().max().item()
            d2 = ((gcn_prop(g, x @ gw, how) + gb)[:k] - checks["gcn_forward"]).abs().max().item()
            if d1 > 1e-4 or d2 > 1e-3:
                sys.exit("peer: %s disagrees with gognn: max |diff| %g (aggregate_mean), %g (gcn_forward)" % (how, d1, d2))
            out["checks"]["aggregate_mean"] = max(out["checks"].get("aggregate_mean", 0), d1)
            out["checks"]["gcn_forward"] = max(out["checks"].get("gcn_forward", 0), d2)

    gathered = g.row2.numel() * f * 4
    variants = {
        "aggregate_mean": ("csr", "coo", "index_add"),
        "gcn_forward": ("csr", "coo", "index_add"),
        "gat_forward": ("csr", "index_add"),
        "gatv2_forward": ("index_add",),
        "gin_forward": ("index_add",),
        "sage2_forward": ("csr", "coo", "index_add"),
        "gcn2_train_step": ("csr", "coo", "index_add"),
        "sage2_train_step": ("csr", "coo", "index_add"),
    }
    names = {"csr": "sparse.mm CSR", "coo": "sparse.mm COO", "index_add": "gather + index_add_"}
    names_gat = {"csr": "segment_reduce + per-head CSR spmm", "index_add": "scatter (PyG-style)"}
    names_mp = {"index_add": "index_select + index_add_ (PyG-style)"}
    gcn1 = GCN([f, hid])
    with torch.no_grad():
        gcn1.lins[0].weight.copy_(gw.t())
        gcn1.biases[0].copy_(gb)
    gat = GAT(f, 8, hid // 8)
    gatv2 = GATv2(f, 8, hid // 8)
    gin = GIN(f, hid)
    sage2f = SAGE([f, hid, hid])

    def train_step(model, how):
        opt = torch.optim.Adam(model.parameters(), lr=0.01)

        def step():
            opt.zero_grad()
            loss = F.cross_entropy(model(g, x, how), labels)
            loss.backward()
            opt.step()
        return step

    for op in a.ops.split(","):
        for how in variants[op]:
            wanted = a.variants.split(",")
            if "fast" in wanted:
                # The fastest way of each op on this machine: CSR, and the scatter form for GAT.
                wanted = ["index_add"] if op in ("gat_forward", "gatv2_forward", "gin_forward") else ["csr"]
            if how not in wanted:
                continue
            name = (names_gat if op == "gat_forward" else names_mp if op in ("gatv2_forward", "gin_forward") else names)[how]
            rec = {"op": op, "variant": name}
            if how == "index_add" and gathered > GATHER_LIMIT:
                rec["error"] = "skipped: the gathered (E, F) rows would take %.1f GB" % (gathered / 1e9)
                out["results"].append(rec)
                continue
            try:
                if op == "aggregate_mean":
                    fn = lambda: mean_agg(g, x, how)
                elif op == "gcn_forward":
                    fn = lambda: gcn1(g, x, how)
                elif op == "gat_forward":
                    fn = lambda: gat(g, x, how)
                elif op == "gatv2_forward":
                    fn = lambda: gatv2(g, x, how)
                elif op == "gin_forward":
                    fn = lambda: gin(g, x, how)
                elif op == "sage2_forward":
                    fn = lambda: sage2f(g, x, how)
                elif op == "gcn2_train_step":
                    fn = train_step(GCN([f, hid, cls]), how)
                else:
                    fn = train_step(SAGE([f, hid, cls]), how)
                if op.endswith("train_step"):
                    p50, mn, runs = timed(fn, a.repeat, a.warmup, a.budget)
                else:
                    with torch.no_grad():
                        p50, mn, runs = timed(fn, a.repeat, a.warmup, a.budget)
                rec["p50_ms"], rec["min_ms"], rec["runs"] = p50, mn, runs
            except Exception as ex:  # a variant this torch build cannot run (e.g. no backward)
                rec["error"] = "%s: %s" % (type(ex).__name__, str(ex).splitlines()[0] if str(ex) else "")
            out["results"].append(rec)
            print("peer: N=%d %s %s: %s" % (n, op, name, rec.get("error") or "p50 %.2f ms" % rec["p50_ms"]), file=sys.stderr, flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
