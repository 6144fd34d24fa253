"Issue 9: Max-Median in bounded memory (identical output), and predict_folder that never writes outside its folder."
import os, subprocess, sys, textwrap
import numpy as np
import pytest
import torch
import torch.nn.functional as F
import irstd_nb.classical as C
from irstd_nb.core import DataError, locked, write_png


def max_median_reference(x, r=4):
    "The whole-image implementation that shipped before issue 9 (~180 B/px), kept as the reference."
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).float()
    nd = t.ndim
    t = t[None, None] if nd == 2 else (t[:, None] if nd == 3 else t)
    H, W = t.shape[-2:]
    p = F.pad(t, (r, r, r, r), mode="replicate")
    meds = []
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        line = torch.stack([p[..., r + j * dy:r + j * dy + H, r + j * dx:r + j * dx + W] for j in range(-r, r + 1)], 0)
        meds.append(line.kthvalue(r + 1, 0).values)
    out = (t - torch.stack(meds, 0).max(0).values).clamp_min(0)
    return out[0, 0] if nd == 2 else (out[:, 0] if nd == 3 else out)


def naive_max_median(x, r):
    "Pixel loop straight from the definition (nearest-edge extension), for tiny images."
    H, W = x.shape
    out = np.zeros_like(x)
    for y in range(H):
        for xx in range(W):
            meds = [np.median([x[min(max(y + j * dy, 0), H - 1), min(max(xx + j * dx, 0), W - 1)] for j in range(-r, r + 1)])
                    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1))]
            out[y, xx] = max(x[y, xx] - max(meds), 0)
    return out


def test_max_median_matches_naive_definition():
    x = np.random.default_rng(1).random((9, 13)).astype(np.float32)
    for r in (1, 2, 3):
        np.testing.assert_array_equal(C.max_median(x, r, tile=20).numpy(), naive_max_median(x, r))


@pytest.mark.parametrize("shape", [(37, 50), (1, 1), (3, 70), (70, 3), (2, 33, 45), (2, 1, 40, 31)])
def test_max_median_identical_to_whole_image(shape):
    x = torch.rand(*shape, generator=torch.Generator().manual_seed(0))
    x.view(-1)[::7] = 0.5                                               # ties
    for r in (1, 2, 4):
        ref = max_median_reference(x, r)
        for tile in (1, 17, 200, 10**9, C.MAX_MEDIAN_TILE):
            got = C.max_median(x, r, tile=tile)
            assert got.shape == ref.shape and torch.equal(got, ref), (shape, r, tile)
    u8 = (np.random.default_rng(2).random(shape[-2:]) * 255).astype(np.uint8)   # integer input as well
    assert torch.equal(C.max_median(u8, 4, tile=64), max_median_reference(u8, 4))


@pytest.mark.skipif(not os.access("/proc/self/clear_refs", os.W_OK), reason="needs Linux's /proc/self/clear_refs")
def test_max_median_peak_memory():
    """Peak resident memory that one 2000×2000 call adds, in a fresh process (VmHWM reset just before the call):
    under 40 B/px, output included (the whole-image version: 180)."""
    n = 2000
    code = textwrap.dedent(f"""
        import numpy as np, torch
        torch.set_num_threads(1)
        from irstd_nb.classical import max_median
        def rss(key): return next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith(key + ":"))
        x = np.random.default_rng(0).random(({n}, {n}), dtype=np.float32)
        max_median(x[:300, :300])                       # warm up: lazy imports, allocator
        open("/proc/self/clear_refs", "w").write("5")   # reset the peak resident set
        base = rss("VmRSS")
        y = max_median(x)
        print((rss("VmHWM") - base) / {n}**2)""")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    bpp = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout)
    assert 4 <= bpp < 40, f"Max-Median used {bpp:.1f} B/px"        # the float32 output alone is 4 B/px


@pytest.fixture
def images(tmp_path):
    d = tmp_path / "imgs"
    rng = np.random.default_rng(0)
    for i in range(2): write_png(d / f"{i:03d}.png", rng.random((24, 20)))
    return d


def test_predict_folder_holds_lock(tmp_path, images):
    with locked(tmp_path / "out", folder=True):
        with pytest.raises(DataError, match=r"out: is in use by process"):
            C.predict_folder("tophat", images, tmp_path / "out", progress=False)
    assert not list((tmp_path / "out").glob("*.png"))
    assert len(C.predict_folder("tophat", images, tmp_path / "out", progress=False)) == 2   # released: works


def test_predict_folder_refuses_link_out_of_folder(tmp_path, images):
    victim = tmp_path / "victim.png"; victim.write_bytes(b"keep me")
    out = tmp_path / "out"; out.mkdir()
    os.symlink(victim, out / "000.png")
    with pytest.raises(DataError, match="outside the output folder"):
        C.predict_folder("maxmedian", images, out, progress=False)
    assert victim.read_bytes() == b"keep me"


@pytest.mark.parametrize("name", ["../escaped", "ABS", "a/../../escaped"])
def test_predict_folder_refuses_escaping_names(tmp_path, images, monkeypatch, name):
    if name == "ABS": name = str(tmp_path / "abs_escaped")                 # an absolute path
    monkeypatch.setattr(C, "input_images", lambda *a, **k: [(name, images / "000.png")])
    out = tmp_path / "deep" / "out"
    with pytest.raises(DataError):
        C.predict_folder("tophat", images, out, progress=False)
    assert not (tmp_path / "deep" / "escaped.png").exists() and not (tmp_path / "escaped.png").exists()
    assert not (tmp_path / "abs_escaped.png").exists()


def test_predict_folder_clip_names_stay_inside(tmp_path, images, monkeypatch):
    monkeypatch.setattr(C, "input_images", lambda *a, **k: [("seq_0001/00002", images / "000.png")])
    files = C.predict_folder("tophat", images, tmp_path / "out", progress=False)
    assert files == [tmp_path / "out" / "seq_0001" / "00002.png"] and files[0].is_file()
