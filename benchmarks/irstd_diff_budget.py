"""Is IRSTD-Diff's diffusion branch a detector, or short of training? The tiny configuration trained for
growing step budgets on synthetic scenes, with the same weights scored after each budget on a validation
split held out of train: the encoder alone, the diffusion output x̂0 with DDIM 10 and with the authors'
100-step ancestral sampler, and the authors' fusion. A diagnostic per noise level t shows where the noise
model fails: from the true mask x0, draw x_t ~ q(x_t | x0), predict x̂0 in one step, and measure its IoU and
the share of background pixels it calls target.

The test split is scored once, after the last budget, with every procedure; nothing is selected on it.
Training is resumable (the checkpoint lives in --work) and runs with the library's `fit`.

    OMP_NUM_THREADS=2 python benchmarks/irstd_diff_budget.py --work runs/diff-budget      # ~50 min on 2 CPU cores
    # the recorded run: 3,600 steps on one core beside other jobs (60 min of training), then scored again with --record
    OMP_NUM_THREADS=1 python benchmarks/irstd_diff_budget.py --budgets 300,600,1200,2400,3600 --work runs/diff-budget --record
    python benchmarks/irstd_diff_budget.py --budgets 50,100 --n 48 --work /tmp/smoke     # a quick smoke run
"""
import argparse, json, sys, time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import add_output_args, report  # noqa: E402
from irstd_nb.data import IRSTDDataset  # noqa: E402
from irstd_nb.diffusion import ddim_steps  # noqa: E402
from irstd_nb.irstd_diff import IRSTDDiff, IRSTDDiffConfig  # noqa: E402
from irstd_nb.runs import subset  # noqa: E402
from irstd_nb.synth import SynthConfig, write_dataset  # noqa: E402
from irstd_nb.training import TrainConfig, evaluate, fit  # noqa: E402

PROCEDURES = {"encoder": dict(output="encoder"),
              "diffusion, DDIM 10": dict(output="diffusion", sampler="ddim", steps=10, cache_encoder=True),
              "diffusion, DDPM 100 (authors')": dict(output="diffusion", sampler="ddpm", cache_encoder=True),
              "fusion, DDIM 10": dict(output="fusion", sampler="ddim", steps=10, cache_encoder=True)}
T_PROBE = (0, 2, 5, 10, 20, 40, 60, 80, 99)


def score(model, ds, proc: dict, batch: int = 16) -> dict:
    for k, v in proc.items(): setattr(model.cfg, k, v)
    r = evaluate(model, ds, batch_size=batch)
    return dict(iou=round(r["iou"], 4), pd=round(r["pd"], 4), fa_e6=round(r["fa"] * 1e6, 1))


def _batch(model, ds):
    "All of `ds` as one batch: the masks as booleans, the model's image input and its encoder feature (computed once)."
    xs = torch.stack([ds[i][0] for i in range(len(ds))]); G = torch.stack([ds[i][1] for i in range(len(ds))]) > 0.5
    img = model.image(xs); maps, feat = model.ce(img)
    return G, img, feat


def _iou_bg(P, G, tag: str = "") -> dict:
    "IoU of prediction P with mask G, and the share of background pixels P calls target."
    return {f"iou{tag}": round(float((P & G).sum() / max((P | G).sum(), 1)), 4),
            f"bg_called_target{tag}": round(float((P & ~G).sum() / max((~G).sum(), 1)), 5)}


@torch.no_grad()
def per_t(model, ds, seed: int = 0, swap: bool = False) -> list[dict]:
    """One-step x̂0 from x_t ~ q(x_t | x0) at each probed t: IoU with the mask and the background share called target.
    `swap`: also with each image's condition replaced by the next image's (same x_t): where the scores do not drop,
    the noise model reads the mask from x_t, not from the image. `x0_err_gain` = sqrt((1 − ᾱ_t)/ᾱ_t), the factor by
    which an error in ε̂ becomes an error in x̂0 (x̂0 = (x_t − sqrt(1 − ᾱ_t) ε̂)/sqrt(ᾱ_t))."""
    g = torch.Generator().manual_seed(seed)
    G, img, feat = _batch(model, ds)
    x0 = model.to_x0(G.float())
    scores = lambda x0_hat, tag="": _iou_bg(model.to_mask(x0_hat) > 0.5, G, tag)
    rows = []
    for t in T_PROBE:
        tt = torch.full((len(G),), t, dtype=torch.long)
        eps = torch.randn(x0.shape, generator=g)
        x_t = model.diffusion.q_sample(x0, tt, eps)
        e_hat = model.eps(x_t, tt, (img, feat))
        row = dict(t=t, **scores(model.diffusion.predict_x0(x_t, tt, e_hat).clamp(-1, 1)),
                   eps_mse=round(float(((e_hat - eps) ** 2).mean()), 5))
        if swap:
            e_sw = model.eps(x_t, tt, (img.roll(1, 0), feat.roll(1, 0)))
            row |= scores(model.diffusion.predict_x0(x_t, tt, e_sw).clamp(-1, 1), "_swapped")
            ab = float(model.diffusion.alpha_bar[t])
            row["x0_err_gain"] = round(((1 - ab) / ab) ** 0.5, 3)
        rows.append(row)
    return rows


@torch.no_grad()
def chain(model, ds, sampler: str, seed: int = 0) -> list[dict]:
    """Walk a sampler from x_T on every image of `ds` (the encoder once) and score the x̂0 of each step: IoU with the
    mask and the background share called target. Set beside `per_t` at the same t, it shows whether the chain's own
    x_t leads the noise model astray where x_t drawn from the true mask would not."""
    g = torch.Generator().manual_seed(seed)
    G, img, feat = _batch(model, ds)
    cond, D = (img, feat), model.diffusion
    x = torch.randn(G.shape, generator=g)
    ts = list(reversed(range(D.T))) if sampler == "ddpm" else ddim_steps(D.T, 10)
    rows = []
    for t, tp in zip(ts, ts[1:] + [-1]):
        if sampler == "ddpm": x, x0 = D.p_sample(model.eps, x, t, cond, "large", True, torch.randn(x.shape, generator=g))
        else: x, x0 = D.ddim_step(model.eps, x, t, tp, cond, 0.0, True)
        if sampler == "ddim" or t in T_PROBE: rows.append(dict(t=t, **_iou_bg(model.to_mask(x0) > 0.5, G)))
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--budgets", default="300,600,1200,2400,3600,4800,6000", help="training steps after which to score (cumulative)")
    p.add_argument("--n", type=int, default=256, help="synthetic images (a quarter are test; a fifth of train is val)")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work", type=Path, required=True, help="folder for the data, the resumable checkpoint and the partial results")
    add_output_args(p)
    a = p.parse_args(argv)
    budgets = sorted(int(b) for b in a.budgets.split(","))
    a.work.mkdir(parents=True, exist_ok=True)
    data = a.work / f"syn{a.size}_{a.n}_{a.seed}"
    if not data.exists():   # the same scenes as bench_irstd_diff.py
        write_dataset(data, a.n, SynthConfig(size=a.size, n_targets=(1, 2), scr=(4, 10)), seed=a.seed, test_frac=0.25, progress=False)
    full = IRSTDDataset(data, "train")
    names = [n for n, *_ in full.items]
    held = set(np.random.default_rng(a.seed).permutation(names)[: len(names) // 5].tolist())
    train, val, test = subset(full, set(names) - held), subset(full, held), IRSTDDataset(data, "test")
    torch.manual_seed(a.seed)
    model = IRSTDDiff(IRSTDDiffConfig.tiny())
    partial = a.work / "budget_rows.json"
    rows = json.loads(partial.read_text()) if partial.exists() else []
    t_start = time.time()
    for b in budgets:
        tcfg = TrainConfig(model="irstd_diff", loss="model", optimizer="adamw", lr=a.lr, scheduler="none", steps=b,
                           batch_size=a.batch, crop=None, seed=a.seed, ckpt_every=5)
        hist = fit(model, train, tcfg, device="cpu", ckpt=a.work / "tiny.pt", progress=False, allow_changes=["steps"])
        if any(r["steps"] == b for r in rows): continue          # scored in an earlier session
        model.eval()
        row = dict(steps=b, train_seconds=round(sum(h["seconds"] for h in hist), 1), loss=round(hist[-1]["loss"], 4))
        for name, proc in PROCEDURES.items(): row[name] = score(model, val, proc)
        row["per_t"] = per_t(model, val)
        rows.append(row); partial.write_text(json.dumps(rows, indent=1))
        print(json.dumps({k: v for k, v in row.items() if k != "per_t"}), flush=True)
        model.train()
    model.eval()
    final = {name: score(model, test, proc) for name, proc in PROCEDURES.items()}
    last_per_t = per_t(model, val, swap=True)          # the final weights: is the image condition used, at which t?
    chains = {s: chain(model, val, s) for s in ("ddim", "ddpm")}   # … and where does a sampled chain go wrong?
    flat = [dict(steps=r["steps"], train_s=r["train_seconds"], **{f"{k} IoU": r[k]["iou"] for k in PROCEDURES},
                 **{f"{k} Pd": r[k]["pd"] for k in PROCEDURES}) for r in rows]
    out = report("irstd_diff_budget", flat, dict(args={k: str(v) for k, v in vars(a).items()}, budgets=rows, test_after_last_budget=final, per_t_last_with_swapped_condition=last_per_t, chains_last=chains,
                                              model_config=asdict(model.cfg), n_train=len(train), n_val=len(val), n_test=len(test),
                                              wall_seconds_this_session=round(time.time() - t_start),
                                              command="python benchmarks/irstd_diff_budget.py " + " ".join(argv if argv is not None else sys.argv[1:])),
                 a.out, a.record)
    plot(rows, out.with_suffix(".png"))


def plot(rows, path):
    import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4), dpi=100)
    steps = [r["steps"] for r in rows]
    for k, m in zip(PROCEDURES, "os^v"): ax.plot(steps, [r[k]["iou"] for r in rows], "-" + m, label=k)
    ax.set(xlabel="training steps (batch 8, 64² scenes)", ylabel="validation IoU", title="IoU against training budget", ylim=(0, 1))
    ax.legend(fontsize=8)
    for r in rows[:: max(1, len(rows) // 4)] + ([rows[-1]] if len(rows) > 1 else []):
        bx.semilogy([q["t"] for q in r["per_t"]], [max(q["bg_called_target"], 1e-5) for q in r["per_t"]], "-o", ms=3, label=f"{r['steps']} steps")
    bx.set(xlabel="noise level t (0: clean)", ylabel="background share with x̂0 > 0.5", title="one-step x̂0 from q(x_t | x0)")
    bx.legend(fontsize=8); fig.tight_layout(); fig.savefig(path); print(f"wrote {path}")


if __name__ == "__main__":
    main()
