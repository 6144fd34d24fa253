"""Benchmark: Pd/Fa over 1,000 images of 256x256 with a few targets each, on one CPU core.

Compares irstd_nb.metrics.pd_fa_counts (one labelling pass, centroids by bincount) with a loop of
skimage label/regionprops per image, as BasicIRSTD's metrics.py does it, and checks both agree.
Usage: OMP_NUM_THREADS=1 python benchmarks/bench_metrics.py [--n 1000] [--size 256]
"""
import argparse, os
from pathlib import Path
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np
import torch
from scipy import ndimage
from common import add_output_args, best_time, report
from irstd_nb.metrics import pd_fa_counts


def make(n, size, seed=0):
    "n ground-truth masks with 3 targets of 2-4 px; predictions: dilated, shifted targets plus small clutter blobs."
    rng = np.random.default_rng(seed)
    G = np.zeros((n, size, size), bool)
    for i in range(n):
        for _ in range(3):
            h, w = rng.integers(2, 5, 2); y, x = rng.integers(4, size - 8, 2)
            G[i, y:y + h, x:x + w] = True
    P = ndimage.binary_dilation(G, structure=np.ones((1, 3, 3), bool))
    P = np.roll(P, 1, axis=2) | (ndimage.binary_dilation(rng.uniform(size=G.shape) > 0.99997, structure=np.ones((1, 2, 2), bool)))
    return P, G


def basicirstd_loop(P, G):
    from skimage import measure
    n_gt = n_match = fa = 0
    for p, g in zip(P, G):
        cp = list(measure.regionprops(measure.label(p, connectivity=2)))
        cg = measure.regionprops(measure.label(g, connectivity=2))
        match_px = 0
        for t in cg:
            for m in range(len(cp)):
                if np.linalg.norm(np.array(cp[m].centroid) - np.array(t.centroid)) < 3:
                    n_match += 1; match_px += cp[m].area; del cp[m]; break
        n_gt += len(cg); fa += int(p.sum()) - match_px
    return n_gt, n_match, fa


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000); ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=3)
    add_output_args(ap)
    a = ap.parse_args()
    torch.set_num_threads(1)
    P, G = make(a.n, a.size)
    ours = pd_fa_counts(P, G)
    ref = basicirstd_loop(P, G)
    got = (int(ours["n_gt"].sum()), int(ours["n_matched"].sum()), int(ours["fa_pixels"].sum()))
    assert got == ref, (got, ref)
    t_ref = best_time(lambda: basicirstd_loop(P, G), a.repeat)
    t_ours = best_time(lambda: pd_fa_counts(P, G), a.repeat)
    rows = [dict(method="skimage loop (BasicIRSTD)", seconds=round(t_ref, 3), images_per_s=round(a.n / t_ref)),
            dict(method="irstd_nb pd_fa_counts", seconds=round(t_ours, 3), images_per_s=round(a.n / t_ours))]
    print(f"Pd/Fa, {a.n} images of {a.size}x{a.size}: {got[0]} targets, {got[1]} matched, {got[2]} false-alarm pixels (both agree)")
    report("metrics_cpu", rows, dict(n=a.n, size=a.size, speedup=round(t_ref / t_ours, 1),
                                     counts=dict(zip(("n_gt", "n_matched", "fa_pixels"), got))), out=a.out, record=a.record)
    print(f"speed-up: {t_ref / t_ours:.1f}x")


if __name__ == "__main__":
    main()
