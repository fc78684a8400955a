"""GCNII (Chen et al., ICML 2020) in PyTorch, as the authors' code trains it (github.com/chennnM/GCNII,
train.py and model.py, the semi-supervised Planetoid setting), on a data set written by

    go run ./experiments/citation -dataset topics -export -out DIR

so that the Go model's results on a graph can be checked against an independent implementation
of the same setting on the same graph:

    /usr/bin/python3 experiments/citation/gcnii_reference.py DIR/topics.json --seeds 10

The setting: row-normalised features; P = D^-1/2 (A+I) D^-1/2; a dense layer with ReLU gives
X0; 64 layers of relu(((1-alpha) P H + alpha X0)((1-beta_l) I + beta_l W_l)), beta_l =
log(lambda/l + 1), W_l ~ U(+-1/sqrt(64)), no bias; dropout 0.6 before the first dense layer,
every convolution and the last dense layer; Adam lr 0.01 with L2 weight decay 0.01 on the
convolutions and 5e-4 on the dense layers; at most 1500 epochs, stopping after 100 epochs
without a lower validation loss and testing the model of the lowest. --init glorot initialises
the dense layers as gognn's nn.Linear does (Glorot uniform weights, zero biases) instead of
torch.nn.Linear's default, to measure what that difference does.
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F


def load(path):
    d = json.load(open(path))
    n, cols = d["nodes"], d["feature_cols"]
    rowptr = d["feat_rowptr"]
    rows = [i for i in range(n) for _ in range(rowptr[i], rowptr[i + 1])]
    x = torch.zeros(n, cols)
    x[torch.tensor(rows, dtype=torch.long), torch.tensor(d["feat_cols"], dtype=torch.long)] = torch.tensor(d["feat_values"], dtype=torch.float)
    s = x.sum(1, keepdim=True)
    x = x / torch.where(s == 0, torch.ones_like(s), s)  # row-normalised, empty rows kept at zero
    src = torch.tensor(d["src"], dtype=torch.long)
    dst = torch.tensor(d["dst"], dtype=torch.long)
    loops = torch.arange(n)
    src, dst = torch.cat([src, loops]), torch.cat([dst, loops])
    deg = torch.zeros(n).index_add_(0, dst, torch.ones(len(dst)))
    w = deg[src].rsqrt() * deg[dst].rsqrt()
    adj = torch.sparse_coo_tensor(torch.stack([dst, src]), w, (n, n)).coalesce().to_sparse_csr()
    t = lambda k: torch.tensor(d[k], dtype=torch.long)
    return x, adj, t("labels"), t("train"), t("val"), t("test"), d["classes"]


class Propagate(torch.autograd.Function):
    """P h for the symmetric P: the backward pass is P times the gradient (torch.sparse.mm's
    own backward transposes P every call, which dominates a 64-layer epoch on CPU)."""

    @staticmethod
    def forward(ctx, adj, h):
        ctx.adj = adj
        return adj @ h

    @staticmethod
    def backward(ctx, grad):
        return None, ctx.adj @ grad


class Net(torch.nn.Module):
    def __init__(self, nfeat, nclass, layers, hidden, dropout, alpha, lamda, init):
        super().__init__()
        self.inp = torch.nn.Linear(nfeat, hidden)
        self.out = torch.nn.Linear(hidden, nclass)
        if init == "glorot":
            for lin in (self.inp, self.out):
                torch.nn.init.xavier_uniform_(lin.weight)
                torch.nn.init.zeros_(lin.bias)
        bound = 1 / math.sqrt(hidden)
        self.convs = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.empty(hidden, hidden).uniform_(-bound, bound)) for _ in range(layers)])
        self.dropout, self.alpha, self.lamda = dropout, alpha, lamda

    def forward(self, x, adj):
        x = F.dropout(x, self.dropout, self.training)
        h0 = F.relu(self.inp(x))
        h = h0
        for l, w in enumerate(self.convs, start=1):
            beta = math.log(self.lamda / l + 1)
            h = F.dropout(h, self.dropout, self.training)
            support = (1 - self.alpha) * Propagate.apply(adj, h) + self.alpha * h0
            h = F.relu(beta * support @ w + (1 - beta) * support)
        h = F.dropout(h, self.dropout, self.training)
        return F.log_softmax(self.out(h), dim=1)


def run(data, seed, a):
    x, adj, y, train, val, test, classes = data
    torch.manual_seed(seed)
    m = Net(x.shape[1], classes, a.layers, a.hidden, a.dropout, a.alpha, a.lamda, a.init)
    opt = torch.optim.Adam([
        {"params": list(m.convs.parameters()), "weight_decay": a.wd1},
        {"params": list(m.inp.parameters()) + list(m.out.parameters()), "weight_decay": a.wd2},
    ], lr=a.lr)
    best, best_epoch, bad, state = float("inf"), 0, 0, None
    deadline = time.time() + a.budget if a.budget > 0 else float("inf")
    for epoch in range(1, a.epochs + 1):
        if time.time() > deadline:
            print(f"  seed {seed}: --budget spent, cut short after epoch {epoch - 1}", flush=True)
            epoch -= 1
            break
        m.train()
        opt.zero_grad()
        out = m(x, adj)
        loss = F.nll_loss(out[train], y[train])
        loss.backward()
        opt.step()
        m.eval()
        with torch.no_grad():
            out = m(x, adj)
        vloss = F.nll_loss(out[val], y[val]).item()
        acc = lambda idx: (out[idx].argmax(1) == y[idx]).float().mean().item()
        if a.trace and epoch % a.trace == 0:
            print(f"  seed {seed} epoch {epoch}: train loss {loss.item():.4f} acc {acc(train):.4f}  "
                  f"val loss {vloss:.4f} acc {acc(val):.4f}", flush=True)
        if vloss < best:
            best, best_epoch, bad = vloss, epoch, 0
            state = {k: v.clone() for k, v in m.state_dict().items()}
        else:
            bad += 1
            if bad == a.patience:
                break
    m.load_state_dict(state)
    m.eval()
    with torch.no_grad():
        out = m(x, adj)
    hit = lambda idx: (out[idx].argmax(1) == y[idx]).float().mean().item()
    return hit(train), hit(val), hit(test), best_epoch, epoch


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", help="a data set written by experiments/citation -export")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--seed", type=int, default=1, help="first seed")
    p.add_argument("--layers", type=int, default=64)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--dropout", type=float, default=0.6)
    p.add_argument("--alpha", type=float, default=0.1)
    p.add_argument("--lamda", type=float, default=0.5)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--wd1", type=float, default=0.01, help="weight decay of the convolutions")
    p.add_argument("--wd2", type=float, default=5e-4, help="weight decay of the dense layers")
    p.add_argument("--epochs", type=int, default=1500)
    p.add_argument("--patience", type=int, default=100)
    p.add_argument("--init", choices=["torch", "glorot"], default="torch")
    p.add_argument("--trace", type=int, default=0, help="print the curves every N epochs")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--budget", type=float, default=0, help="stop each seed after this many seconds and test its best model so far (0: no limit)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    data = load(a.data)
    print(f"torch {torch.__version__}, {a.data}, {vars(a)}")
    tests = []
    for seed in range(a.seed, a.seed + a.seeds):
        t0 = time.time()
        tr, va, te, best, ran = run(data, seed, a)
        tests.append(te)
        print(f"  seed {seed}: test {te:.4f}  val {va:.4f}  train {tr:.4f}  best epoch {best} of {ran}  {time.time() - t0:.0f} s", flush=True)
    sd = statistics.stdev(tests) if len(tests) > 1 else 0.0
    print(f"test accuracy {100 * statistics.mean(tests):.1f} ± {100 * sd:.1f} over {len(tests)} seeds")


if __name__ == "__main__":
    main()
