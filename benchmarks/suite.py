"""Time replib's hot paths side by side with the standard alternatives, in one run, and report ratios.

    bash tools/bench                         # full sizes, with neural-tangents, writes the Performance page
    python -m benchmarks --size tiny         # a quick run (CI runs this to keep the suite working)

Workloads (seeded; sizes in SIZES):
1. analytic NNGP + NTK of a depth-3 ReLU (and erf) network on 2000 inputs of dimension 100, float64:
   replib.kernels.MLPKernel against neural-tangents' jitted stax kernel_fn (results must agree to 1e-10);
2. empirical NTK of a width-512 one-hidden-layer ReLU MLP on 500 inputs of dimension 50:
   replib.nets.StackedMLP.ntk against neural-tangents' three empirical_ntk_fn strategies and an autograd loop;
3. kernel ridge regression with an RBF kernel, n = 20 000, d = 50, over a grid of ridges:
   replib.kernels.kernel_ridge_path against scikit-learn's KernelRidge (time, peak memory, test error);
4. 64 two-layer ReLU networks (d = 64, width 256) trained by 2000 online-SGD steps of batch 64:
   replib.nets.train_online on a StackedMLP against a Python loop over nn.Modules, and the achieved
   fraction of this machine's peak float32 matmul FLOP/s (measured in the same run);
5. the whole book: execution time of every chapter at smoke (measured now) and book scale (recorded).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.kernel_ridge import KernelRidge

from benchmarks import anchors
from replib.kernels import MLPKernel, kernel_ridge_path, rbf_kernel
from replib.nets import StackedMLP, train_online
from replib.timing import peak_memory, side_by_side

ROOT = Path(__file__).resolve().parents[1]
SIZES = {
    "tiny": dict(kernel_n=200, kernel_d=20, kernel_sweep=[50, 100, 200], entk_n=40, entk_width=64,
                 entk_sweep=[10, 20, 40], krr_n=800, krr_test=200, krr_sweep=[200, 400, 800],
                 nets=8, net_steps=20, net_sweep=[2, 4, 8], repeat=2),
    "full": dict(kernel_n=2000, kernel_d=100, kernel_sweep=[250, 500, 1000, 2000], entk_n=500, entk_width=512,
                 entk_sweep=[62, 125, 250, 500], krr_n=20000, krr_test=2000, krr_sweep=[2500, 5000, 10000],
                 nets=64, net_steps=2000, net_sweep=[8, 16, 32, 64], repeat=5),
}
RIDGES = [1e-3, 1e-2, 1e-1, 1.0]


@dataclass
class Row:
    workload: str
    implementation: str
    seconds: float | None
    vs_replib: float | None = None  # this implementation's time / replib's (> 1: replib is faster)
    memory_mib: float | None = None
    note: str = ""


def _rows_with_ratios(workload: str, timings: dict[str, float], notes: dict[str, str] | None = None) -> list[Row]:
    ours = timings["replib"]
    return [Row(workload, name, t, t / ours if t is not None else None, note=(notes or {}).get(name, ""))
            for name, t in timings.items()]


def analytic_kernels(size: dict) -> tuple[list[Row], dict]:
    rng = np.random.default_rng(0)
    rows, sweep = [], {}
    for activation in ("relu", "erf"):
        workload = f"analytic NNGP+NTK, depth 3 {activation}, n={size['kernel_n']}, d={size['kernel_d']}"
        kern = MLPKernel(3, activation, weight_var=2.0, bias_var=0.1)
        x = rng.standard_normal((size["kernel_n"], size["kernel_d"]))
        xt = torch.as_tensor(x)
        fns = {"replib": lambda: kern(xt)}
        note = {}
        if anchors.nt is not None:
            nt_fn = anchors.nt_analytic_kernel_fn(3, activation, 2.0, 0.1)
            fns["neural-tangents (jit)"] = lambda: nt_fn(x)
            ours, theirs = kern(xt), nt_fn(x)
            off = ~np.eye(len(x), dtype=bool)
            rel = [np.abs(np.asarray(t) - o.numpy()) / np.abs(o.numpy()).max() for o, t in zip(ours, theirs)]
            err_off, err_diag = max(r[off].max() for r in rel), max(r.diagonal().max() for r in rel)
            note["neural-tangents (jit)"] = (f"max relative difference {err_off:.1e} off the diagonal, "
                                             f"{err_diag:.1e} on it")
            if activation == "relu":
                exact = _relu_ntk_diagonal(x, 3, 2.0, 0.1)
                note["replib"] = ("NTK diagonal vs the exact θ = 0 recursion: replib "
                                  f"{np.abs(ours.ntk.numpy().diagonal() - exact).max() / exact.max():.0e}, "
                                  f"neural-tangents {np.abs(np.asarray(theirs[1]).diagonal() - exact).max() / exact.max():.0e}")
            if err_off > 1e-10:
                raise AssertionError(f"replib and neural-tangents kernels differ by {err_off:.2e} (> 1e-10)")
        t = side_by_side(fns, repeat=size["repeat"])
        rows += _rows_with_ratios(workload, {k: v.best for k, v in t.items()}, note)
        if activation == "relu":
            for n in size["kernel_sweep"]:
                xs = rng.standard_normal((n, size["kernel_d"]))
                fs = {"replib": (lambda z: lambda: kern(z))(torch.as_tensor(xs))}
                if anchors.nt is not None:
                    fs["neural-tangents"] = (lambda z: lambda: nt_fn(z))(xs)
                for name, tm in side_by_side(fs, repeat=size["repeat"]).items():
                    sweep.setdefault(name, []).append((n, tm.best))
    return rows, sweep


def _relu_ntk_diagonal(x: np.ndarray, depth: int, weight_var: float, bias_var: float) -> np.ndarray:
    """Θ(x, x) of a ReLU network in closed form: every layer sees θ = 0, so E[φ'φ'] = 1/2 exactly."""
    k = weight_var * (x * x).sum(1) / x.shape[1] + bias_var
    theta = k.copy()
    for _ in range(depth):
        k = weight_var * k / 2 + bias_var
        theta = k + weight_var * theta / 2
    return theta


def _autograd_loop_ntk(net: StackedMLP, x: torch.Tensor) -> torch.Tensor:
    params = list(net.parameters())
    jac = []
    for xi in x:
        grads = torch.autograd.grad(net(xi[None])[0, 0], params, allow_unused=True)  # σ_b = 0: biases unused
        jac.append(torch.cat([g.reshape(-1) for g in grads if g is not None]))
    jac = torch.stack(jac)
    return jac @ jac.T


def empirical_ntk(size: dict) -> tuple[list[Row], dict]:
    n, width = size["entk_n"], size["entk_width"]
    workload = f"empirical NTK, 1 hidden layer width {width}, n={n}, d=50 (float32)"
    g = torch.Generator().manual_seed(0)
    net = StackedMLP(50, [width], 1, weight_var=2.0, bias_var=0.0, generator=g)
    x = torch.randn(n, 50, generator=g)
    fns = {"replib": lambda: net.ntk(x), "autograd loop": lambda: _autograd_loop_ntk(net, x)}
    notes = {"replib": "structured: sum over layers of (inputs Gram) ⊙ (backprop Gram)"}
    ours = net.ntk(x)[0]
    loop_err = float((_autograd_loop_ntk(net, x) - ours).abs().max() / ours.abs().max())
    notes["autograd loop"] = f"max relative difference {loop_err:.1e}"
    nt_fns = {}
    if anchors.nt is not None:
        weights = [w[0].detach().numpy() for w in net.weights]
        biases = [b[0, 0].detach().numpy() for b in net.biases]
        nt_fns = anchors.nt_empirical_ntk_fns(weights, biases, 2.0)
        for name, fn in nt_fns.items():
            fns[f"neural-tangents {name}"] = (lambda f: lambda: f(x.numpy()))(fn)
            err = float(np.abs(np.asarray(fn(x.numpy())) - ours.numpy()).max() / ours.abs().max())
            notes[f"neural-tangents {name}"] = f"max relative difference {err:.1e}"
    t = side_by_side(fns, repeat=size["repeat"])
    rows = _rows_with_ratios(workload, {k: v.best for k, v in t.items()}, notes)
    sweep = {}
    for m in size["entk_sweep"]:
        xs = x[:m]
        fs = {"replib": lambda: net.ntk(xs), "autograd loop": lambda: _autograd_loop_ntk(net, xs)}
        if nt_fns:
            best = min(nt_fns, key=lambda k: t[f"neural-tangents {k}"].best)
            fs["neural-tangents"] = (lambda f: lambda: f(xs.numpy()))(nt_fns[best])
        for name, tm in side_by_side(fs, repeat=size["repeat"]).items():
            sweep.setdefault(name, []).append((m, tm.best))
    return rows, sweep


def _krr_data(n: int, n_test: int):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n + n_test, 50))
    y = np.sin(x @ np.ones(50) / math.sqrt(50)) + 0.1 * rng.standard_normal(n + n_test)
    return x[:n], y[:n], x[n:], y[n:]


def _replib_krr(x, y, xt, ridges):
    xt_, x_ = torch.as_tensor(xt), torch.as_tensor(x)
    k = rbf_kernel(x_, lengthscale=math.sqrt(50))
    kt = rbf_kernel(xt_, x_, lengthscale=math.sqrt(50))
    return kernel_ridge_path(k, torch.as_tensor(y), kt, ridges).numpy()


def _sklearn_krr(x, y, xt, ridges):
    return np.stack([KernelRidge(alpha=r, kernel="rbf", gamma=1 / (2 * 50)).fit(x, y).predict(xt) for r in ridges])


def kernel_ridge(size: dict) -> tuple[list[Row], dict]:
    n = size["krr_n"]
    workload = f"RBF kernel ridge, n={n}, d=50, {len(RIDGES)} ridges"
    x, y, xt, yt = _krr_data(n, size["krr_test"])
    results, rows = {}, []
    for name, fn in (("replib", _replib_krr), ("scikit-learn KernelRidge", _sklearn_krr)):
        seconds, mib, preds = peak_memory(fn, x, y, xt, RIDGES)
        results[name] = (seconds, mib, ((preds - yt) ** 2).mean(1))
    ours = results["replib"]
    for name, (seconds, mib, mse) in results.items():
        rel = np.abs(mse - ours[2]).max() / ours[2].max()
        note = "test MSE " + " / ".join(f"{m:.4g}" for m in mse) + (f" (max relative diff {rel:.1e})" if name != "replib" else "")
        if rel > 1e-6:
            raise AssertionError(f"{name} test errors {mse} differ from replib's {ours[2]}")
        rows.append(Row(workload, name, seconds, seconds / ours[0], mib, note))
    sweep = {}
    for m in size["krr_sweep"]:
        xs, ys, xts, _ = _krr_data(m, size["krr_test"])
        for name, fn in (("replib", _replib_krr), ("scikit-learn", _sklearn_krr)):
            start = time.perf_counter()
            fn(xs, ys, xts, RIDGES)
            sweep.setdefault(name, []).append((m, time.perf_counter() - start))
    for name, key in (("replib", "replib"), ("scikit-learn", "scikit-learn KernelRidge")):
        sweep[name].append((n, results[key][0]))
    return rows, sweep


def _training_problem(nets: int, steps: int):
    g = torch.Generator().manual_seed(2)
    theta = torch.randn(64, generator=g)
    theta /= theta.norm()
    xs = torch.randn(steps, 64, 64, generator=g)
    return g, xs, torch.relu(xs @ theta)


def _train_stacked(nets: int, steps: int) -> torch.Tensor:
    g, xs, ys = _training_problem(nets, steps)
    net = StackedMLP(64, [256] * nets, 1, generator=g)
    return train_online(net, lambda s: (xs[s], ys[s]), steps=steps, lr=0.05).loss[-1]


def _train_loop(nets: int, steps: int) -> torch.Tensor:
    g, xs, ys = _training_problem(nets, steps)
    final = []
    for _ in range(nets):
        model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 1))
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        for s in range(steps):
            loss = 0.5 * ((model(xs[s]).squeeze(-1) - ys[s]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        final.append(loss.detach())
    return torch.stack(final)


def peak_matmul_flops() -> float:
    a = torch.randn(4096, 4096)
    a @ a
    best = min(side_by_side({"mm": lambda: a @ a}, repeat=5)["mm"].times)
    return 2 * 4096**3 / best


def batched_training(size: dict) -> tuple[list[Row], dict]:
    nets, steps = size["nets"], size["net_steps"]
    workload = f"{nets} two-layer ReLU nets, d=64, width 256, {steps} online SGD steps of batch 64"
    t = side_by_side({"replib": lambda: _train_stacked(nets, steps), "Python loop": lambda: _train_loop(nets, steps)},
                     repeat=max(1, size["repeat"] // 2), warmup=0)
    flops = 3 * 2 * nets * 64 * (64 * 256 + 256) * steps  # forward + backward ≈ 3 × forward
    peak = peak_matmul_flops()
    rows = _rows_with_ratios(workload, {k: v.best for k, v in t.items()})
    rows[0].note = (f"{flops / t['replib'].best / 1e9:.1f} GFLOP/s = {flops / t['replib'].best / peak:.0%} of the "
                    f"measured float32 matmul peak ({peak / 1e9:.0f} GFLOP/s)")
    sweep = {}
    for m in size["net_sweep"]:
        for name, tm in side_by_side({"replib": lambda: _train_stacked(m, steps // 4 or 1),
                                      "Python loop": lambda: _train_loop(m, steps // 4 or 1)}, repeat=1, warmup=0).items():
            sweep.setdefault(name, []).append((m, tm.best))
    return rows, sweep


def book_runtimes(smoke: bool) -> list[dict]:
    """Per chapter: book-scale runtime recorded in the committed notebook, and a fresh smoke run."""
    import tempfile

    from tools.chapters import all_chapters
    from tools.regression import run_smoke

    chapters = all_chapters()
    smoke_times = {}
    if smoke:
        with tempfile.TemporaryDirectory() as tmp:
            smoke_times = {s: r.seconds for s, r in run_smoke(chapters, Path(tmp), jobs=1).items()}
    out = []
    for c in chapters:
        rec = c.executed_meta().get("record", {})
        out.append({"chapter": c.slug, "book_s": rec.get("runtime_s"), "smoke_s": smoke_times.get(c.slug)})
    return out


def format_table(rows: list[Row]) -> str:
    lines = ["| workload | implementation | time (s) | time ÷ replib | peak memory (MiB) | note |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        fmt = lambda v, f: "" if v is None else format(v, f)  # noqa: E731
        lines.append(f"| {r.workload} | {r.implementation} | {fmt(r.seconds, '.4g')} | {fmt(r.vs_replib, '.3g')} "
                     f"| {fmt(r.memory_mib, '.0f')} | {r.note} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="tiny")
    parser.add_argument("--json", type=Path, help="write all results here")
    parser.add_argument("--no-book", action="store_true", help="skip workload 5 (the smoke run of every chapter)")
    parser.add_argument("--book-only", action="store_true",
                        help="run only workload 5 and update its part of --json (the book's own environment)")
    args = parser.parse_args(argv)
    if args.book_only:
        if not args.json or not args.json.exists():
            parser.error("--book-only updates an existing results file: pass --json")
        results = json.loads(args.json.read_text())
        results["book"] = book_runtimes(smoke=True)
        args.json.write_text(json.dumps(results, indent=1) + "\n")
        for b in results["book"]:
            print(f"{b['chapter']}: smoke {b['smoke_s'] or 0:.0f} s, book {b['book_s'] or 0:.0f} s")
        return 0
    size = SIZES[args.size]
    if anchors.nt is None:
        print(f"note: {anchors.SKIP}")
    rows, sweeps = [], {}
    for name, fn in (("analytic kernels", analytic_kernels), ("empirical NTK", empirical_ntk),
                     ("kernel ridge regression", kernel_ridge), ("batched training", batched_training)):
        print(f"running {name} ...", flush=True)
        r, s = fn(size)
        rows += r
        sweeps[name] = s
    book = [] if args.no_book else book_runtimes(smoke=True)
    print(format_table(rows))
    for b in book:
        print(f"{b['chapter']}: smoke {b['smoke_s'] or 0:.0f} s, book {b['book_s'] or 0:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({
            "size": args.size, "torch": torch.__version__, "neural_tangents": anchors.nt is not None,
            "rows": [asdict(r) for r in rows], "sweeps": sweeps, "book": book}, indent=1) + "\n")
    return 0
