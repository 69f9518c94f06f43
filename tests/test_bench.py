"""The performance suite keeps working (run at a tiny size; CI does not time it)."""

import json

from benchmarks.suite import main


def test_benchmark_suite_runs_at_tiny_size_and_checks_agreement(tmp_path):
    out = tmp_path / "bench.json"
    assert main(["--size", "tiny", "--no-book", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    workloads = {r["workload"].split(",")[0] for r in result["rows"]}
    assert len(workloads) == 4
    for row in result["rows"]:
        assert row["seconds"] > 0 and row["vs_replib"] > 0
    assert {"analytic kernels", "empirical NTK", "kernel ridge regression", "batched training"} == set(result["sweeps"])
