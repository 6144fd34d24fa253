"The benchmark scripts run (tiny sizes) and write their JSON where they should; their speed numbers are not asserted here."
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
    r = run("bench_models.py", "--size", 32, "--train-batch", 2, "--fwd-batch", 1, "--rounds", 2, "--warmup", 0, "--no-memory",
            "--out", tmp_path / "b.json")
    assert r.returncode == 0, r.stderr
    res = json.loads((tmp_path / "b.json").read_text())
    variants = ["reference", "fast", "fast+cl", "fast+cl+bf16", "no-bdm"]
    assert [(x["model"], x["pass"], x["variant"]) for x in res["rows"]] == \
        [(m, p, v) for m in ("sd2net", "std2net") for p in ("train", "fwd") for v in variants]
    assert all(x["samples_per_s"] > 0 and x["speedup_min"] <= x["speedup"] <= x["speedup_max"] for x in res["rows"])
    assert all(x["speedup"] == 1.0 for x in res["rows"] if x["variant"] == "reference")
    assert res["variants"]["fast+cl+bf16"] == dict(bdm_impl="fast", channels_last=True, precision="bf16", compile=False)


def test_bench_models_peak_memory_fresh_process():
    "The per-variant memory probe runs alone in a new process and reports a positive peak."
    r = run("bench_models.py", "--_peak", "sd2net", "fast", "train", 2, "--size", 64)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1])["peak_mb"] > 0


def test_default_output_is_git_ignored():
    "Without --record a benchmark writes to results/local/, which git ignores: the tracked results are untouched."
    def status(): return subprocess.run(["git", "status", "--porcelain", "--", "benchmarks/results"], capture_output=True, text=True, cwd=REPO).stdout
    before = status()
    r = run("bench_synth.py", "--n", 2, "--size", 32)
    assert r.returncode == 0, r.stderr
    out = REPO / "benchmarks" / "results" / "local" / "synth_cpu.json"
    assert out.exists() and json.loads(out.read_text())["rows"]
    assert subprocess.run(["git", "check-ignore", "-q", str(out)], cwd=REPO).returncode == 0
    assert status() == before


def test_irstd_diff_budget_smoke_and_resume(tmp_path):
    "The budget study runs at tiny sizes, records every diagnostic, and a second call resumes: nothing is trained or scored twice."
    args = ("--budgets", "2,4", "--n", 24, "--size", 32, "--batch", 4, "--work", tmp_path / "w", "--out", tmp_path / "d.json")
    r = run("irstd_diff_budget.py", *args)
    assert r.returncode == 0, r.stderr
    res = json.loads((tmp_path / "d.json").read_text())
    assert [b["steps"] for b in res["budgets"]] == [2, 4]
    t_probe = [q["t"] for q in res["budgets"][0]["per_t"]]
    assert t_probe[0] == 0 and t_probe[-1] == 99
    last = res["per_t_last_with_swapped_condition"]
    assert all(0 <= q["iou"] <= 1 and 0 <= q["iou_swapped"] <= 1 and 0 <= q["bg_called_target_swapped"] <= 1 for q in last)
    gains = [q["x0_err_gain"] for q in last]
    assert gains == sorted(gains) and gains[-1] > 100          # sqrt((1 − ᾱ_t)/ᾱ_t) grows with t
    assert [q["t"] for q in res["chains_last"]["ddim"]] == [99, 88, 77, 66, 55, 44, 33, 22, 11, 0]
    assert [q["t"] for q in res["chains_last"]["ddpm"]] == sorted(t_probe, reverse=True)
    assert set(res["test_after_last_budget"]) == {"encoder", "diffusion, DDIM 10", "diffusion, DDPM 100 (authors')", "fusion, DDIM 10"}
    r2 = run("irstd_diff_budget.py", *args)                     # resumed: the same rows, no new training
    assert r2.returncode == 0, r2.stderr
    res2 = json.loads((tmp_path / "d.json").read_text())
    assert [(b["steps"], b["train_seconds"]) for b in res2["budgets"]] == [(b["steps"], b["train_seconds"]) for b in res["budgets"]]
