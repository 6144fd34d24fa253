"""Benchmark: synthetic data generation speed on one CPU core (images/s, in memory and written to disk).

Usage: OMP_NUM_THREADS=1 python benchmarks/bench_synth.py [--n 100] [--size 256]
"""
import argparse, os, tempfile
os.environ.setdefault("OMP_NUM_THREADS", "1")
from pathlib import Path
import numpy as np
import torch
from common import add_output_args, best_time, report
from irstd_nb.synth import SynthConfig, synth_image, synth_clip, write_dataset


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100); ap.add_argument("--size", type=int, default=256)
    add_output_args(ap)
    a = ap.parse_args()
    torch.set_num_threads(1)
    rows = []
    for scene in ("sky", "sea", "ground"):
        cfg = SynthConfig(size=a.size, scene=scene)
        t = best_time(lambda: [synth_image(cfg, np.random.default_rng([0, i])) for i in range(a.n)], 2)
        rows.append(dict(what=f"synth_image {scene}, in memory", items=a.n, seconds=round(t, 2), per_s=round(a.n / t, 1)))
    for bits in (8, 16):
        with tempfile.TemporaryDirectory() as d:
            runs = iter(range(100))                                   # a fresh folder per call: write_dataset never overwrites
            t = best_time(lambda: write_dataset(Path(d) / f"x{next(runs)}", a.n, SynthConfig(size=a.size, bits=bits), progress=False), 2)
        rows.append(dict(what=f"write_dataset mixed {bits}-bit, to disk", items=a.n, seconds=round(t, 2), per_s=round(a.n / t, 1)))
    cfg = SynthConfig(size=a.size, frames=8)
    nc = max(a.n // 8, 1)
    t = best_time(lambda: [synth_clip(cfg, np.random.default_rng([0, i])) for i in range(nc)], 2)
    rows.append(dict(what="synth_clip (frames), in memory", items=nc * 8, seconds=round(t, 2), per_s=round(nc * 8 / t, 1)))
    report("synth_cpu", rows, dict(size=a.size), out=a.out, record=a.record)


if __name__ == "__main__":
    main()
