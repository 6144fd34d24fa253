"Inference library: weights round trip and refusals, exact tiling against whole-image inference, clips, detections, folders."
import csv, json, os, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
import torch
import torch.nn as nn

from irstd_nb.core import DataError, locked, write_png
from irstd_nb.inference import (alignment, clip_windows, default_overlap, detections, load, load_weights, predict_image,
                                predict_to_folder, save_weights, test_model as score_model, tiles)
from irstd_nb.models import create
from irstd_nb.sd2net import SD2NetConfig

TINY = dict(channels=(4, 4, 4, 4), ratios=(2, 2, 2, 2), rsu_mid=2, head_channels=4)


from conftest import randomise_bn


@pytest.fixture
def tiny():
    torch.manual_seed(0)
    return randomise_bn(create("sd2net", **TINY))


@pytest.fixture
def tiny_clip():
    torch.manual_seed(1)
    return randomise_bn(create("std2net", backbone=SD2NetConfig(**TINY), mid=8))


# --- weights -------------------------------------------------------------------------------------------------------

def test_weights_round_trip_and_metadata(tmp_path, tiny_clip):
    opts = dict(backbone=SD2NetConfig(**TINY), mid=8)
    f = save_weights(tmp_path / "run" / "best.safetensors", tiny_clip, "std2net", opts, dict(mean=0.25, std=2.0, epoch=7))
    sd, meta = load_weights(f)
    assert meta["model"] == "std2net" and meta["kind"] == "clip" and meta["torch_version"] == torch.__version__
    assert meta["options"]["backbone"] == SD2NetConfig(**TINY) and meta["extra"]["epoch"] == 7
    m = load(tmp_path / "run")                       # a run folder
    assert not m.training and m.cfg.mid == 8 and m.cfg.backbone.channels == (4, 4, 4, 4)
    for (k, a), (k2, b) in zip(tiny_clip.state_dict().items(), m.state_dict().items()):
        assert k == k2 and torch.equal(a, b)
    # the stored normalisation is applied: predicting x with mean .25/std 2 equals the raw model on (x - .25) / 2
    x = np.random.default_rng(0).random((5, 64, 64)).astype(np.float32)
    ref = tiny_clip(torch.from_numpy((x - 0.25) / 2.0)[None, None])[0, 0].detach().numpy()
    np.testing.assert_allclose(predict_image(m, x, logits=True), ref, atol=1e-5)


def test_load_refuses_bad_inputs(tmp_path, tiny):
    f = save_weights(tmp_path / "w.safetensors", tiny, "sd2net", TINY)
    b = f.read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(b[: len(b) // 2])
    with pytest.raises(DataError, match="cut.safetensors: not a readable safetensors"): load(tmp_path / "cut.safetensors")
    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in create("std2net").state_dict().items()}, str(tmp_path / "foreign.safetensors"))
    with pytest.raises(DataError, match="foreign.safetensors: .*looks like 'std2net'"): load(tmp_path / "foreign.safetensors")
    # weights of one model under another model's name: says which model they seem to be
    g = save_weights(tmp_path / "s.safetensors", create("std2net"), "std2net", {})
    sd, meta = load_weights(g)
    from safetensors.torch import save
    meta2 = {k: v for k, v in meta.items() if isinstance(v, str)} | dict(model="sd2net", options="{}", config="null", extra="{}")
    (tmp_path / "lie.safetensors").write_bytes(save({k: v.contiguous() for k, v in sd.items()}, metadata=meta2))
    with pytest.raises(DataError, match="do not fit sd2net.*looks like 'std2net'"): load(tmp_path / "lie.safetensors")
    with pytest.raises(DataError, match="no shipped weights named 'sd2net'"): load("sd2net")
    with pytest.raises(DataError, match="not found"): load(tmp_path / "missing")
    (tmp_path / "emptyrun").mkdir()
    with pytest.raises(DataError, match="without best.safetensors"): load(tmp_path / "emptyrun")


def test_legacy_checkpoint_is_read_without_unpickling(tmp_path, tiny):
    from dataclasses import asdict
    from irstd_nb.training import TrainConfig, save_checkpoint
    save_checkpoint(tmp_path / "last.pt", model=tiny.state_dict(), config=asdict(TrainConfig(model="sd2net", model_options=TINY)))
    m = load(tmp_path / "last.pt")
    assert all(torch.equal(a, b) for a, b in zip(tiny.state_dict().values(), m.state_dict().values()))

    class Evil:                                      # a pickle that would run code: refused by weights_only
        def __reduce__(self): return (os.system, ("echo pwned",))
    torch.save({"model": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(DataError, match="cannot read checkpoint safely"): load(tmp_path / "evil.pt")


# --- any size and tiling -------------------------------------------------------------------------------------------

def test_any_size_is_cropped_back(tiny):
    for H, W in [(37, 53), (64, 64), (65, 1)]:
        p = predict_image(tiny, np.random.default_rng(H).random((H, W)).astype(np.float32))
        assert p.shape == (H, W) and p.dtype == np.float32 and 0 <= p.min() and p.max() <= 1


def test_tiles_partition_the_image():
    ts = tiles(192, 480, 96, 128)
    cover = np.zeros((192, 480), int)
    for win, (y0, y1, x0, x1) in ts:
        cover[y0:y1, x0:x1] += 1
        assert win[0] <= y0 and win[1] >= y1 and win[2] <= x0 and win[3] >= x1
    assert (cover == 1).all() and len(ts) == 10


def test_exact_tiling_equals_whole_image(tiny):
    "Tiles of 96 px with 128 px of context (windows ≤ 352 px wide on a 480-px-wide image) reproduce the whole image."
    x = np.random.default_rng(0).random((180, 470)).astype(np.float32)
    whole = predict_image(tiny, x, tile=0, logits=True)
    assert max(w[3] - w[2] for w, _ in tiles(192, 480, 96, 128)) < 480          # no window is the whole image
    exact = predict_image(tiny, x, tile=96, overlap=128, logits=True)
    assert np.abs(exact - whole).max() < 1e-5
    # the test can fail: without context, or with per-tile BDM coefficients, tiles differ from the whole image
    assert np.abs(predict_image(tiny, x, tile=96, overlap=0, logits=True) - whole).max() > 1e-3
    assert np.abs(predict_image(tiny, x, tile=96, overlap=128, exact=False, logits=True) - whole).max() > 1e-4


def test_exact_tiling_reference_bdm(tiny):
    "The recorder also stands in for the reference BDM (materialised bases), the route when no fast BDM exists."
    from irstd_nb.inference import reference_bdm
    x = np.random.default_rng(2).random((64, 470)).astype(np.float32)
    whole = predict_image(tiny, x, tile=0, logits=True)
    with reference_bdm(tiny):
        assert all(m.bdm_impl == "reference" for m in tiny.modules() if hasattr(m, "bdm_impl"))
        tiled = predict_image(tiny, x, tile=96, overlap=128, logits=True)
    assert np.abs(tiled - whole).max() < 1e-5


def test_exact_tiling_clip_model(tiny_clip):
    x = np.random.default_rng(1).random((5, 30, 410)).astype(np.float32)
    whole = predict_image(tiny_clip, x, tile=0, logits=True)
    assert max(w[3] - w[2] for w, _ in tiles(32, 416, 96, 128)) < 416
    tiled = predict_image(tiny_clip, x, tile=96, overlap=128, logits=True)
    assert np.abs(tiled - whole).max() < 1e-5
    assert np.abs(predict_image(tiny_clip, x, tile=96, overlap=128, exact=False, logits=True) - whole).max() > 1e-4


def test_irstd_diff_any_size_and_approximate_tiles(tmp_path):
    from irstd_nb.irstd_diff import IRSTDDiffConfig
    torch.manual_seed(0)
    opts = vars(IRSTDDiffConfig.tiny(steps=2))
    m = create("irstd_diff", **opts).eval()
    save_weights(tmp_path / "d.safetensors", m, "irstd_diff", opts)
    m = load(tmp_path / "d.safetensors")
    x = np.random.default_rng(0).random((70, 50)).astype(np.float32)
    p = predict_image(m, x)
    assert p.shape == (70, 50)
    with torch.no_grad(): ref = torch.sigmoid(m(torch.from_numpy(np.pad(x, ((0, 26), (0, 14))))[None, None]))[0, 0, :70, :50].numpy()
    np.testing.assert_allclose(p, ref, atol=1e-6)             # padded to 32 like the model's own multiple
    with pytest.warns(UserWarning, match="only approximate"): predict_image(m, np.zeros((70, 200), np.float32), tile=64, overlap=32)


def test_default_overlap_and_alignment(tiny):
    assert alignment(tiny) == 32 and default_overlap(tiny) == 128 and alignment(create("irstd_diff", ce_width=0.25, model_channels=16,
                                                                                          channel_mult=(1, 1, 2), num_res_blocks=1,
                                                                                          attention_ds=(4,), norm_groups=8)) == 32
    with pytest.raises(ValueError, match="multiple of 32"): predict_image(tiny, np.zeros((300, 300), np.float32), tile=100)


def test_large_frame_bounded_memory():
    "Peak RSS growth of a 1600×1600 frame in a fresh process: tiled stays well below the whole-image run."
    prog = """
import resource, json, sys, numpy as np, torch
from irstd_nb.inference import predict_image
from irstd_nb.models import create
torch.manual_seed(0)
m = create("sd2net", channels=(4, 4, 4, 4), ratios=(2, 2, 2, 2), rsu_mid=2, head_channels=4).eval()
x = np.random.default_rng(0).random((1600, 1600), dtype=np.float32)
predict_image(m, x[:64, :64], tile=0)
from irstd_nb.bench import peak_rss_mb       # VmHWM, reset here: ru_maxrss would start from the parent's peak
r0 = peak_rss_mb(reset=True)
p = predict_image(m, x, tile=int(sys.argv[1]), overlap=128, exact=False)
print(json.dumps(dict(growth=peak_rss_mb() - r0, shape=list(p.shape))))
"""
    grow = {}
    for tile in (0, 256):
        out = subprocess.run([sys.executable, "-c", prog, str(tile)], capture_output=True, text=True, timeout=300,
                             env={**os.environ, "OMP_NUM_THREADS": "1"})
        r = json.loads(out.stdout.strip().splitlines()[-1])
        assert r["shape"] == [1600, 1600]
        grow[tile] = r["growth"]
    assert grow[256] < 0.35 * grow[0] and grow[256] < 150, grow     # input, padded copy, output: 3 × 10 MB; one 512² window


# --- clips ---------------------------------------------------------------------------------------------------------

def test_clip_windows_repeat_the_first_frame():
    frames = [np.full((2, 2), i, np.float32) for i in range(6)]
    w = [win[:, 0, 0].tolist() for _, win in clip_windows(frames, T=5)]
    assert w[0] == [0] * 5 and w[1] == [0, 0, 0, 0, 1] and w[5] == [1, 2, 3, 4, 5] and len(w) == 6
    with pytest.raises(DataError, match="frame 2"):
        list(clip_windows([np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((3, 2))], T=5, where="clip"))


def test_predict_clips_frame_folder_and_gif(tmp_path, tiny_clip):
    from PIL import Image
    rng = np.random.default_rng(0)
    frames = [(rng.random((40, 48)) * 255).astype(np.uint8) for _ in range(7)]
    d = tmp_path / "frames"; d.mkdir()
    for i, f in enumerate(frames): Image.fromarray(f).save(d / f"f{i + 1}.png")         # f10 would sort after f9
    r = predict_to_folder(tiny_clip, d, tmp_path / "out", progress=False)
    assert r["n_images"] == 7 and sorted(Path(p).name for p in r["files"]) == sorted(f"f{i + 1}.png" for i in range(7))
    # the map of frame f7 equals the model on frames f3..f7
    x = np.stack([f / 255 for f in frames[2:7]]).astype(np.float32)
    ref = torch.sigmoid(tiny_clip(torch.from_numpy(x)[None, None]))[0, 0].detach().numpy()
    from irstd_nb.core import read_image
    np.testing.assert_allclose(read_image(tmp_path / "out" / "f7.png"), ref, atol=1 / 255 + 1e-3)
    Image.fromarray(frames[0]).save(tmp_path / "v.gif", save_all=True, append_images=[Image.fromarray(f) for f in frames[1:]])
    r = predict_to_folder(tiny_clip, tmp_path / "v.gif", tmp_path / "outv", progress=False)
    assert r["n_images"] == 7 and (tmp_path / "outv" / "000006.png").is_file()           # frames of a video: 000000, …
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    with pytest.raises(DataError, match="bad.mp4: cannot decode video"):
        predict_to_folder(tiny_clip, tmp_path / "bad.mp4", tmp_path / "outb", progress=False)


def test_predict_clip_dataset_nested_names(tmp_path, tiny_clip):
    from irstd_nb.synth import write_dataset, SynthConfig
    from irstd_nb.data import ClipDataset
    write_dataset(tmp_path / "clips", 2, SynthConfig(size=64, frames=6), seed=0, clips=True, test_frac=0.5, progress=False)
    r = predict_to_folder(tiny_clip, tmp_path / "clips", tmp_path / "out", split="test", progress=False)
    ds = ClipDataset(tmp_path / "clips", "test")
    names = sorted(str(Path(p).relative_to(tmp_path / "out").with_suffix("")) for p in r["files"])
    assert names == sorted(ds.load(i)[2] for i in range(len(ds))) and all("/" in n for n in names)
    s = score_model(tiny_clip, tmp_path / "clips")
    assert s["n_images"] == len(ds) and s["model"] == "STD2Net"


# --- detections and folders -----------------------------------------------------------------------------------------

def test_detections_hand_computed():
    p = np.zeros((8, 10), np.float32)
    p[1, 1] = p[1, 2] = p[2, 2] = 0.9; p[3, 3] = 0.7             # 4 px, 8-connected through the diagonal
    p[5:7, 6:9] = 0.6; p[6, 8] = 0.95                           # 6 px
    p[0, 9] = 0.5                                                # not above the threshold
    rows = detections(p)
    assert [(r["target"], r["area"]) for r in rows] == [(1, 4), (2, 6)]
    assert rows[0]["y"] == pytest.approx(7 / 4) and rows[0]["x"] == pytest.approx(8 / 4) and rows[0]["peak"] == pytest.approx(0.9)
    assert rows[1]["y"] == pytest.approx(5.5) and rows[1]["x"] == pytest.approx(7.0) and rows[1]["peak"] == pytest.approx(0.95)
    assert detections(p, threshold=0.65) == [dict(target=1, y=7 / 4, x=2.0, area=4, peak=pytest.approx(0.9)),
                                             dict(target=2, y=6.0, x=8.0, area=1, peak=pytest.approx(0.95))]   # the block minus its peak
    assert detections(np.zeros((4, 4))) == []


class TopHatLogits(nn.Module):
    def forward(self, x):
        from irstd_nb.classical import tophat
        return (tophat(x, 9) - 0.08) * 60


def test_predict_folder_dataset_csv_and_scores(tmp_path):
    from irstd_nb.synth import write_dataset, SynthConfig
    from irstd_nb.metrics import evaluate_folder
    write_dataset(tmp_path / "ds", 6, SynthConfig(size=96), seed=1, progress=False)
    m = TopHatLogits().eval()
    r = predict_to_folder(m, tmp_path / "ds", tmp_path / "out", overlay=True, bits=16, progress=False)
    rows = list(csv.DictReader(open(tmp_path / "out" / "detections.csv")))
    assert list(rows[0]) == ["image", "target", "y", "x", "area", "peak"] and len(rows) == r["n_detections"] > 0
    first = rows[0]["image"]
    from irstd_nb.core import read_image
    p = read_image(tmp_path / "out" / f"{first}.png")
    ours = detections(p)
    assert len(ours) == sum(row["image"] == first for row in rows)
    assert (tmp_path / "out" / "overlays" / f"{first}.png").is_file()
    # scoring the model directly equals scoring its 16-bit PNGs (an independent route through the files)
    direct, via_png = score_model(m, tmp_path / "ds"), evaluate_folder(tmp_path / "out", tmp_path / "ds")
    for k in ("n_targets", "n_matched", "fa_pixels", "n_images"): assert direct[k] == via_png[k], k
    assert direct["iou"] == pytest.approx(via_png["iou"], abs=1e-9) and direct["n_matched"] > 0


def test_predict_folder_single_image_and_lock(tmp_path, tiny):
    write_png(tmp_path / "one.png", np.random.default_rng(0).random((50, 70)))
    r = predict_to_folder(tiny, tmp_path / "one.png", tmp_path / "out", progress=False)
    assert r["n_images"] == 1 and (tmp_path / "out" / "one.png").is_file() and (tmp_path / "out" / "detections.csv").is_file()
    with locked(tmp_path / "busy", folder=True):
        # a second writer is refused at once (the lock is per process through filelock; run it in a child process)
        prog = ("from irstd_nb.inference import predict_to_folder; from irstd_nb.models import create; "
                f"predict_to_folder(create('sd2net').eval(), {str(tmp_path / 'one.png')!r}, {str(tmp_path / 'busy')!r}, progress=False)")
        out = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=120)
        assert out.returncode != 0 and "is in use" in out.stderr
    with pytest.raises(DataError, match="input not found"):
        predict_to_folder(tiny, tmp_path / "nothing", tmp_path / "out2", progress=False)
