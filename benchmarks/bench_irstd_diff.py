"""IRSTD-Diff samplers: does a few-step DDIM with the encoder run once score as well as the authors' 100-step
DDPM with the encoder at every step, and what does each cost?

Trains a small IRSTD-Diff (`IRSTDDiffConfig.tiny()` unless told otherwise) on synthetic scenes with the
library's `fit` (resumable: the checkpoint lives in --work), then scores the *same* weights on the test
split with every procedure: the encoder alone, DDIM with 1…20 steps, the authors' 100-step DDPM, and the
authors' fusion rule. No procedure or checkpoint is selected on the test split: training runs a fixed
number of steps and every procedure is reported. MACs per image are counted with torch.utils.flop_counter
at the bench size and, for the paper's configuration, at 256² on the meta device.

    OMP_NUM_THREADS=2 python benchmarks/bench_irstd_diff.py      # CPU: ~10 min training, ~6 min scoring on 2 cores
    python benchmarks/bench_irstd_diff.py --steps 200 --n 64     # a quick smoke run
    python benchmarks/bench_irstd_diff.py --device cuda --size 256 --full --steps 20000 --record
"""
import argparse, shutil, sys, tempfile, time
from dataclasses import asdict
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import add_output_args, report  # noqa: E402
from irstd_nb.data import IRSTDDataset  # noqa: E402
from irstd_nb.irstd_diff import IRSTDDiff, IRSTDDiffConfig  # noqa: E402
from irstd_nb.synth import SynthConfig, write_dataset  # noqa: E402
from irstd_nb.training import TrainConfig, evaluate, fit  # noqa: E402

PROCEDURES = [("encoder", "ddim", 0, True)] + [("diffusion", "ddim", k, True) for k in (1, 2, 5, 10, 20)] + \
             [("diffusion", "ddpm", None, False), ("fusion", "ddim", 10, True), ("fusion", "ddpm", None, False)]


def score(model, ds, device, batch: int) -> dict:
    "The engine's metrics of model(x) over ds in batches (all items the same size), and seconds per image."
    t0 = time.perf_counter()
    r = evaluate(model, ds, device, batch_size=batch)
    return r | dict(seconds_per_image=(time.perf_counter() - t0) / len(ds))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=1200, help="training steps")
    p.add_argument("--n", type=int, default=256, help="synthetic images (a quarter are test)")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--mask-range", default="pm1", choices=["pm1", "01"])
    p.add_argument("--full", action="store_true", help="the paper's configuration instead of the tiny one")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work", default=None, help="folder for data and the resumable checkpoint (default: a temp dir)")
    add_output_args(p)
    a = p.parse_args(argv)
    work = Path(a.work or tempfile.mkdtemp(prefix="bench_irstd_diff_"))
    data = work / f"syn{a.size}_{a.n}_{a.seed}"
    if not (data / "README.md").exists() and not data.exists():
        write_dataset(data, a.n, SynthConfig(size=a.size, n_targets=(1, 2), scr=(4, 10)), seed=a.seed, test_frac=0.25, progress=False)
    train, test = IRSTDDataset(data, "train"), IRSTDDataset(data, "test")
    mcfg = IRSTDDiffConfig(mask_range=a.mask_range) if a.full else IRSTDDiffConfig.tiny(mask_range=a.mask_range)
    torch.manual_seed(a.seed)
    model = IRSTDDiff(mcfg)
    tcfg = TrainConfig(model="irstd_diff", model_options=dict(mask_range=a.mask_range), loss="model", optimizer="adamw",
                       lr=a.lr, scheduler="none", steps=a.steps, batch_size=a.batch, crop=None, seed=a.seed, ckpt_every=5)
    hist = fit(model, train, tcfg, device=a.device, ckpt=work / f"tiny_{a.mask_range}_{a.steps}.pt", progress=False)
    train_s = sum(h["seconds"] for h in hist)              # over all sessions of a resumed run
    model.eval()
    x1 = test[0][0][None].to(a.device)
    rows = []
    for output, sampler, steps, cache in PROCEDURES:
        model.cfg.output, model.cfg.sampler, model.cfg.cache_encoder = output, sampler, cache
        if steps: model.cfg.steps = steps
        c = model.cost(x1)
        r = score(model, test, a.device, 64 if a.size <= 64 else 4)
        rows.append(dict(output=output, procedure=c["procedure"], iou=round(r["iou"], 4), niou=round(r["niou"], 4),
                         pd=round(r["pd"], 4), fa_e6=round(r["fa"] * 1e6, 2), macs_per_image=c["per_image"],
                         reduction=round(c["reduction"], 1), s_per_image=round(r["seconds_per_image"], 4)))
        print(rows[-1], flush=True)
    with torch.device("meta"):
        paper = {}
        for steps in (5, 10, 20):
            c = IRSTDDiff(steps=steps).cost(torch.empty(1, 1, 256, 256))
            paper[f"ddim{steps}"] = dict(per_image=c["per_image"], reduction=round(c["reduction"], 2))
        paper["ddpm100_original"] = c["per_image_original"]
    dev = "cuda" if str(a.device).startswith("cuda") else "cpu"
    report(f"irstd_diff_{dev}", rows, dict(args={k: str(v) if isinstance(v, Path) else v for k, v in vars(a).items()}, model_config=asdict(mcfg), train_config=asdict(tcfg), train_seconds=round(train_s, 1),
                                    train_loss_first_last=[hist[0]["loss"], hist[-1]["loss"]], n_train=len(train), n_test=len(test),
                                    paper_config_macs_256=paper,
                                    command="python benchmarks/bench_irstd_diff.py " + " ".join(argv if argv is not None else sys.argv[1:])), a.out, a.record)
    if a.work is None: shutil.rmtree(work, ignore_errors=True)        # the temporary data and checkpoint


if __name__ == "__main__":
    main()
