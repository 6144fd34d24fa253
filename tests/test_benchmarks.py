"The benchmark scripts run (tiny sizes) and write their JSON; their speed numbers are not asserted here."
import json, subprocess, sys
from conftest import REPO


def run(script, *args):
    return subprocess.run([sys.executable, str(REPO / "benchmarks" / script), *map(str, args)], capture_output=True, text=True, cwd=REPO)


def test_bench_metrics_smoke(tmp_path):
    r = run("bench_metrics.py", "--n", 30, "--size", 64, "--repeat", 1, "--out", tmp_path / "m.json")
    assert r.returncode == 0, r.stderr
    res = json.loads((tmp_path / "m.json").read_text())
    assert res["counts"]["n_gt"] > 0 and len(res["rows"]) == 2 and "cpu" in res["machine"]


def test_bench_synth_smoke(tmp_path):
    r = run("bench_synth.py", "--n", 4, "--size", 48, "--out", tmp_path / "s.json")
    assert r.returncode == 0, r.stderr
    assert len(json.loads((tmp_path / "s.json").read_text())["rows"]) == 6


def test_bench_models_smoke(tmp_path):
    r = run("bench_models.py", "--size", 32, "--batch", 2, "--repeat", 1, "--warmup", 0, "--out", tmp_path / "b.json")
    assert r.returncode == 0, r.stderr
    rows = json.loads((tmp_path / "b.json").read_text())["rows"]
    assert [(x["model"], x["mode"]) for x in rows] == [("sd2net", "fwd"), ("sd2net", "fwd+bwd"), ("std2net", "fwd"), ("std2net", "fwd+bwd")]
    assert all(x["samples_per_s"] > 0 and x["note"] == "" for x in rows)
