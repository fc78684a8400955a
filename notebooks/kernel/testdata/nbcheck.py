"""Executes notebooks through the gognn kernel with Jupyter's nbconvert and checks them: no error
output, outputs on every code cell. The notebooks are not rewritten: nbconvert writes to --out.

usage: nbcheck.py --out DIR NOTEBOOK...   (JUPYTER_PATH must hold the gognn kernelspec)
"""
import argparse
import json
import os
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    ap.add_argument("notebooks", nargs="+")
    args = ap.parse_args()
    failed = []
    total = time.monotonic()
    for nb in args.notebooks:
        start = time.monotonic()
        cmd = ["jupyter", "nbconvert", "--to", "notebook", "--execute",
               "--ExecutePreprocessor.kernel_name=gognn",
               f"--ExecutePreprocessor.timeout={args.timeout}",
               "--output-dir", args.out, nb]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        secs = time.monotonic() - start
        problems = []
        if proc.returncode != 0:
            problems.append("nbconvert failed:\n" + proc.stderr[-3000:])
        else:
            with open(os.path.join(args.out, os.path.basename(nb))) as f:
                doc = json.load(f)
            code = 0
            for cell in doc["cells"]:
                if cell["cell_type"] != "code":
                    continue
                code += 1
                outs = cell.get("outputs", [])
                if not outs:
                    problems.append(f"code cell {code}: no output")
                for o in outs:
                    if o["output_type"] == "error":
                        problems.append(f"code cell {code}: error {o.get('ename')}: {o.get('evalue')}")
        status = "ok  " if not problems else "FAIL"
        print(f"{status} {nb} (nbconvert --execute, gognn kernel, {secs:.1f}s)", flush=True)
        for p in problems:
            print("\t" + p.replace("\n", "\n\t"), flush=True)
        if problems:
            failed.append(nb)
    print(f"{len(args.notebooks) - len(failed)} of {len(args.notebooks)} notebooks passed in {time.monotonic() - total:.1f}s")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
