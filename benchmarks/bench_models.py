"""Speed and peak memory of the registered models: forward (eval, no grad) and forward+backward (train)
samples per second at a given size and batch sizes. A sample is one image (SD2Net) or one 5-frame clip (STD2Net).

    OMP_NUM_THREADS=2 python benchmarks/bench_models.py                      # CPU: sd2net, std2net at 256², batch 4 and 16
    python benchmarks/bench_models.py --device cuda --out benchmarks/results/models_cuda.json

A configuration whose memory, extrapolated linearly from a smaller batch, would exceed 80 % of the available
RAM is skipped with a note instead of being run. Each (model, batch, pass) runs in a fresh child process, so the CPU peak memory (peak resident set size
minus the resident size before the first pass) is not polluted by earlier runs; on CUDA it is
torch.cuda.max_memory_allocated.
"""
import argparse, multiprocessing as mp, resource, sys, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import report


def _rss_mb() -> float:
    with open("/proc/self/statm") as f: return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _available_gib() -> float:
    with open("/proc/meminfo") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("MemAvailable")) / 2**20


def _run(model_name, batch, size, mode, device, repeat, warmup, q):
    import torch
    from irstd_nb.models import create, example_input
    torch.manual_seed(0)
    model = create(model_name).to(device)
    x = example_input(model_name, model, (size, size), batch).to(device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)

    def step():
        if mode == "fwd":
            with torch.no_grad(): model(x)
        else:
            model.zero_grad(set_to_none=True); model(x).float().mean().backward()
        sync()

    model.train(mode == "fwd+bwd")
    base = _rss_mb()                      # model and input allocated, no pass run yet
    if device.startswith("cuda"): torch.cuda.reset_peak_memory_stats()
    for _ in range(warmup): step()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter(); step(); times.append(time.perf_counter() - t0)
    if device.startswith("cuda"): peak = torch.cuda.max_memory_allocated() / 2**20
    else: peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base
    q.put(dict(seconds=round(min(times), 4), samples_per_s=round(batch / min(times), 2), peak_mem_mb=round(peak, 1)))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=["sd2net", "std2net"])
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--batch", type=int, nargs="+", default=[4, 16])
    p.add_argument("--device", default="cpu")
    p.add_argument("--repeat", type=int, default=3, help="timed passes; the best is reported")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    ctx = mp.get_context("spawn")
    rows, per_sample = [], {}
    for m in a.models:
        for b in sorted(a.batch):
            for mode in ("fwd", "fwd+bwd"):
                row = dict(model=m, batch=b, size=a.size, mode=mode, seconds=None, samples_per_s=None, peak_mem_mb=None, note="")
                est = per_sample.get((m, mode), 0) * b / 1024
                if a.device == "cpu" and est > 0.8 * _available_gib():
                    row["note"] = f"skipped: needs about {est:.0f} GiB (linear in batch), {_available_gib():.0f} GiB available"
                else:
                    q = ctx.Queue()
                    proc = ctx.Process(target=_run, args=(m, b, a.size, mode, a.device, a.repeat, a.warmup, q))
                    proc.start(); proc.join()
                    if proc.exitcode != 0: row["note"] = f"failed: exit {proc.exitcode}" + (" (killed: out of memory?)" if proc.exitcode == -9 else "")
                    else:
                        row.update(q.get()); per_sample[(m, mode)] = row["peak_mem_mb"] / b
                rows.append(row)
                print(row, flush=True)
    mem = "torch.cuda.max_memory_allocated (MiB)" if a.device.startswith("cuda") else "peak RSS minus RSS before the first pass (MiB)"
    report(f"models_{a.device.split(':')[0]}", rows, dict(command=" ".join(sys.argv), peak_mem=mem,
                                                           sample="one image (sd2net) or one 5-frame clip (std2net)"), a.out)


if __name__ == "__main__":
    main()
