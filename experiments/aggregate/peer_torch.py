"""PyTorch peer for experiments/aggregate: times sum aggregation, torch.sparse.mm of a CSR
adjacency (unit weights) with dense float32 features, on the graph the Go side wrote.

usage: /usr/bin/python3 peer_torch.py DIR N F THREADS REPEAT
DIR holds crow.i64 and col.i64 (little-endian int64). Prints one JSON object.
"""
import json
import statistics
import sys
import time

import numpy as np
import torch


def main():
    d, n, f, threads, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    crow = torch.from_numpy(np.fromfile(d + "/crow.i64", dtype="<i8"))
    col = torch.from_numpy(np.fromfile(d + "/col.i64", dtype="<i8"))
    vals = torch.ones(col.numel(), dtype=torch.float32)
    a = torch.sparse_csr_tensor(crow, col, vals, size=(n, n))
    x = torch.randn(n, f, dtype=torch.float32)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "runs": repeat}
    with torch.no_grad():
        y = torch.sparse.mm(a, x)
        # Check against a gather-based sum on a few rows, so a wrong layout cannot pass as fast.
        for i in (0, n // 2, n - 1):
            lo, hi = int(crow[i]), int(crow[i + 1])
            ref = x[col[lo:hi]].sum(0)
            assert torch.allclose(y[i], ref, atol=1e-4), "torch.sparse.mm disagrees with the gather"
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            torch.sparse.mm(a, x)
            times.append((time.perf_counter() - t0) * 1e3)
    out["p50_ms"] = statistics.median(times)
    out["min_ms"] = min(times)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
