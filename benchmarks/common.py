"Shared bits of the benchmark scripts: machine description, timing, table printing, JSON output."
import json, os, platform, time
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"      # recorded results (tracked): written only with --record
LOCAL = RESULTS / "local"                                   # every other run writes here (git-ignored)


def add_output_args(parser):
    "The two output options every benchmark takes: --out PATH, or --record (write into the tracked results/)."
    parser.add_argument("--out", type=Path, default=None, help="JSON file to write (default results/local/<name>.json)")
    parser.add_argument("--record", action="store_true", help="write results/<name>.json (tracked) instead of results/local/")


def machine_info() -> dict:
    import numpy, scipy, torch
    from irstd_nb.runs import cpu_name
    cpu = cpu_name()
    return dict(date=datetime.now(timezone.utc).isoformat(timespec="seconds"), python=platform.python_version(),
                numpy=numpy.__version__, scipy=scipy.__version__, torch=torch.__version__, cpu=cpu,
                cores=os.cpu_count(), omp_num_threads=os.environ.get("OMP_NUM_THREADS"), torch_threads=torch.get_num_threads(),
                cuda=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)


def best_time(fn, repeat: int = 3) -> float:
    "Smallest wall time of `repeat` calls (seconds)."
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return min(ts)


def report(name: str, rows: list[dict], extra: dict | None = None, out: Path | None = None, record: bool = False) -> Path:
    """Print rows as a table and write them with the machine description to `out`, or by default to
    results/local/<name>.json (git-ignored), or with `record` to results/<name>.json (tracked)."""
    keys = list(rows[0])
    w = {k: max(len(k), *(len(f"{r[k]}") for r in rows)) for k in keys}
    print("  ".join(f"{k:>{w[k]}}" for k in keys))
    for r in rows: print("  ".join(f"{str(r[k]):>{w[k]}}" for k in keys))
    out = Path(out) if out else (RESULTS if record else LOCAL) / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(benchmark=name, machine=machine_info(), rows=rows, **(extra or {})), indent=2) + "\n")
    print(f"wrote {out}")
    return out
