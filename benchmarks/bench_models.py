"""SD2Net and STD2Net speed and memory: bdm_impl "reference" (the authors' computation, a faithful stand-in
for their code) against "fast" (no basis tensors), in float32 and with the best precision/layout
(channels_last in fp32, and with bfloat16 autocast; torch.compile as an option).

For each model, pass ("train": forward, loss, backward, Adam step; "fwd": eval forward without gradients)
and batch size, every variant is built in ONE process and timed interleaved — reference, fast, best, no-bdm,
reference, fast, … — so that machine load drifts hit all of them alike; each round gives a ratio
reference-time / variant-time, reported as median and range over the rounds. Peak memory is measured
for each variant in its own fresh process (CPU: peak resident set size (VmHWM) minus the size before the
first pass; CUDA: torch.cuda.max_memory_allocated minus the memory allocated before it). A sample is one image
(SD2Net) or one 5-frame clip (STD2Net).

    OMP_NUM_THREADS=1 python benchmarks/bench_models.py                      # CPU, a few minutes per model
    OMP_NUM_THREADS=1 python benchmarks/bench_models.py --record             # write results/models_cpu.json (tracked)
    python benchmarks/bench_models.py --device cuda --record                 # CUDA events, warm-up, same table
    python benchmarks/bench_models.py --compile                              # adds a torch.compile variant (slow first step)

Without --record or --out the JSON goes to results/local/ (git-ignored).
"""
import argparse, json, os, resource, statistics, subprocess, sys, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import add_output_args, report  # noqa: E402

# name → (bdm_impl, channels_last, precision, compile); "no-bdm" is the ceiling: the fast network with every basis
# decomposition replaced by its origin (Y = T), i.e. what the step would cost if the BDM were free.
VARIANTS = {"reference": ("reference", False, "fp32", False),
            "fast": ("fast", False, "fp32", False),
            "fast+cl+bf16": ("fast", True, "bf16", False),
            "fast+cl": ("fast", True, "fp32", False),
            "fast+bf16": ("fast", False, "bf16", False),
            "reference+cl+bf16": ("reference", True, "bf16", False),
            "fast+compile": ("fast", False, "fp32", True),
            "fast+cl+compile": ("fast", True, "fp32", True),
            "no-bdm": ("no-bdm", False, "fp32", False)}


def _rss_mb() -> float:
    with open("/proc/self/statm") as f: return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _hwm_mb() -> float:
    "Peak resident set size of this address space (VmHWM; unlike ru_maxrss it does not inherit the parent's peak)."
    with open("/proc/self/status") as f: return next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) / 1024


def without_bdm(model):
    "The ceiling: every SD2M, SD3M and TD2M of `model` returns its origin instead of its basis decomposition."
    import types
    import torch
    import torch.nn.functional as F
    from irstd_nb.difference import SD2M, SD3M, TD2M
    def sd2m(self, x): return self.out(self.trans(self.origin(self.down(x))))
    def sd3m(self, x): return self.trans(self.origin(F.avg_pool2d(x, 2)))
    def td2m(self, f):
        B, C, T, H, W = f.shape
        Y, cur = self.origin(f.reshape(B, C * T, H, W)), f[:, :, -1]
        return self.out(Y + self.loc(cur)) if self.variant == "B" else self.out(torch.cat([Y, cur], 1))
    for m in model.modules():
        for cls, fn in ((SD2M, sd2m), (SD3M, sd3m), (TD2M, td2m)):
            if isinstance(m, cls): m.forward = types.MethodType(fn, m)
    return model


def build(model_name: str, variant: str, mode: str, batch: int, size: int, device: str):
    "One variant's step function (model, input, target, optimiser, autocast and layout set up), ready to call."
    import torch
    import torch.nn.functional as F
    from irstd_nb.models import create, example_input
    from irstd_nb.core import compile_model
    impl, cl, precision, compile_ = VARIANTS[variant]
    torch.manual_seed(0)
    model = create(model_name, bdm_impl="fast" if impl == "no-bdm" else impl).to(device)
    if impl == "no-bdm": without_bdm(model)
    x = example_input(model_name, model, (size, size), batch).to(device)
    target = (torch.rand(batch, 1, size, size, device=device) > 0.995).float()
    if cl:
        model = model.to(memory_format=torch.channels_last)
        if x.ndim == 4: x = x.contiguous(memory_format=torch.channels_last)
    fn = compile_model(model) if compile_ else model
    opt = torch.optim.Adam(model.parameters(), 1e-4)
    dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    dev_type = torch.device(device).type
    scaler = torch.amp.GradScaler(dev_type, enabled=precision == "fp16")
    sync = torch.cuda.synchronize if dev_type == "cuda" else (lambda: None)
    model.train(mode == "train")

    def step():
        with torch.autocast(dev_type, dtype=dtype or torch.float32, enabled=dtype is not None):
            if mode == "fwd":
                with torch.no_grad(): fn(x)
                return sync()
            opt.zero_grad(set_to_none=True)
            loss = F.binary_cross_entropy_with_logits(fn(x).float(), target)
        scaler.scale(loss).backward(); scaler.step(opt); scaler.update()
        sync()
    return step


def timer(device: str):
    "A function returning seconds for one call of f: CUDA events on a GPU, perf_counter on the CPU."
    import torch
    if not device.startswith("cuda"):
        def t(f):
            t0 = time.perf_counter(); f(); return time.perf_counter() - t0
        return t
    def t(f):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record(); f(); b.record(); torch.cuda.synchronize(); return a.elapsed_time(b) / 1e3
    return t


def interleaved(model_name, mode, batch, size, device, variants, rounds, warmup) -> dict:
    "Seconds per step of every variant, timed in turn round after round in this process."
    steps = {v: build(model_name, v, mode, batch, size, device) for v in variants}
    for f in steps.values():
        for _ in range(warmup): f()
    t, times = timer(device), {v: [] for v in variants}
    for _ in range(rounds):
        for v, f in steps.items(): times[v].append(t(f))
    return times


def peak_memory(model_name, variant, mode, batch, size, device) -> float:
    "Peak memory (MiB) of one warm-up and one timed step of `variant` in this (fresh) process."
    import torch
    cuda = device.startswith("cuda")
    step = build(model_name, variant, mode, batch, size, device)
    if cuda: torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats(); base = torch.cuda.memory_allocated()
    else: base = _rss_mb()
    step(); step()
    if cuda: return (torch.cuda.max_memory_allocated() - base) / 2**20
    return _hwm_mb() - base


def fresh_peak(args, model_name, variant, mode, batch) -> float | None:
    "peak_memory in a new Python process (so earlier allocations cannot hide or inflate it)."
    cmd = [sys.executable, __file__, "--_peak", model_name, variant, mode, str(batch), "--size", str(args.size), "--device", args.device]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"  peak memory of {model_name}/{variant}/{mode}/b{batch} failed: {r.stderr[-500:]}", file=sys.stderr)
        return None
    return json.loads(r.stdout.strip().splitlines()[-1])["peak_mb"]


def summarise(times: dict, batch: int) -> dict:
    "Median seconds, samples/s, and the per-round ratio reference/variant (median, min, max)."
    out, ref = {}, times.get("reference")
    for v, ts in times.items():
        d = dict(seconds=round(statistics.median(ts), 4), samples_per_s=round(batch / statistics.median(ts), 3))
        if ref is not None:
            r = [a / b for a, b in zip(ref, ts)]
            d.update(speedup=round(statistics.median(r), 2), speedup_min=round(min(r), 2), speedup_max=round(max(r), 2))
        out[v] = d
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=["sd2net", "std2net"])
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--train-batch", type=int, nargs="+", default=None,
                   help="training-step batch sizes (default: sd2net 4 8, std2net 4 — a clip is 5 frames)")
    p.add_argument("--fwd-batch", type=int, nargs="+", default=None, help="forward (inference) batch sizes (default: sd2net 1 4, std2net 1)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (each times every variant once)")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--compile", action="store_true", help="add the torch.compile variant")
    p.add_argument("--no-memory", action="store_true", help="skip the fresh-process peak-memory runs")
    p.add_argument("--no-ceiling", action="store_true", help="skip the no-bdm ceiling variant")
    p.add_argument("--variants", nargs="+", default=None, choices=list(VARIANTS),
                   help="variants to time (default: reference fast fast+cl fast+cl+bf16 [fast+compile] no-bdm); keep reference first")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: OMP_NUM_THREADS or torch's)")
    p.add_argument("--_peak", nargs=4, help=argparse.SUPPRESS)
    add_output_args(p)
    a = p.parse_args(argv)
    import torch
    if a.threads: torch.set_num_threads(a.threads)
    if a._peak:
        m, v, mode, b = a._peak
        print(json.dumps(dict(peak_mb=round(peak_memory(m, v, mode, int(b), a.size, a.device), 1))))
        return
    variants = a.variants or (["reference", "fast", "fast+cl", "fast+cl+bf16"] + (["fast+compile"] if a.compile else [])
                              + ([] if a.no_ceiling else ["no-bdm"]))
    rows = []
    for m in a.models:
        train_b = a.train_batch or ([4, 8] if m == "sd2net" else [4])
        fwd_b = a.fwd_batch or ([1, 4] if m == "sd2net" else [1])
        for mode, batches in (("train", train_b), ("fwd", fwd_b)):
            for b in batches:
                t0 = time.perf_counter()
                s = summarise(interleaved(m, mode, b, a.size, a.device, variants, a.rounds, a.warmup), b)
                mem = {v: None if a.no_memory else fresh_peak(a, m, v, mode, b) for v in variants}
                for v in variants:
                    row = dict(model=m, pass_=mode, batch=b, variant=v, **s[v], peak_mem_mb=mem[v],
                               mem_ratio=round(mem[v] / mem["reference"], 2) if mem[v] and mem.get("reference") else None)
                    rows.append({k.rstrip("_"): val for k, val in row.items()})
                print(f"{m} {mode} b{b}: " + ", ".join(f"{v} {s[v]['samples_per_s']}/s ×{s[v].get('speedup')} mem {mem[v]}" for v in variants)
                      + f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
    dev = a.device.split(":")[0]
    mem_how = "torch.cuda.max_memory_allocated minus allocated before (MiB)" if dev == "cuda" \
        else "peak RSS (VmHWM) minus RSS before the first pass, fresh process per variant (MiB)"
    report(f"models_{dev}", rows, dict(
        command="python benchmarks/bench_models.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        env=dict(OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS"), torch_threads=torch.get_num_threads()),
        variants={v: dict(zip(("bdm_impl", "channels_last", "precision", "compile"), VARIANTS[v])) for v in variants},
        timing="interleaved rounds in one process; speedup = reference seconds / variant seconds per round: median, min, max",
        peak_mem=mem_how, sample="one image (sd2net) or one 5-frame clip (std2net)",
        train_step="forward, BCE-with-logits loss, backward, Adam step"), a.out, a.record)


if __name__ == "__main__":
    main()
