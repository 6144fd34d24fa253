"ONNX export: onnxruntime against torch (≤ 1e-4) at the traced size, at other sizes and batches, and on synthetic scenes."
import numpy as np
import pytest
import torch
import torch.nn as nn

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from irstd_nb.core import DataError
from irstd_nb.export import export_onnx, onnx_max_diff, onnx_run
from irstd_nb.inference import predict_image
from irstd_nb.models import create
from irstd_nb.synth import SynthConfig, synth_clip, synth_image


from conftest import randomise_bn as random_bn


def to01(a): return a.astype(np.float32) / np.iinfo(a.dtype).max


def test_sd2net_onnx_dynamic_sizes(tmp_path):
    torch.manual_seed(0)
    m = random_bn(create("sd2net"))                                   # the real network, 268,206 parameters
    rep = export_onnx(m, tmp_path / "sd2net.onnx")
    assert max(rep["max_abs_diff"].values()) <= 1e-4 and len(rep["max_abs_diff"]) == 2
    img = to01(synth_image(SynthConfig(size=(200, 150)), np.random.default_rng(3))[0])
    got = onnx_run(tmp_path / "sd2net.onnx", img[None, None])[0][0, 0]
    ref = predict_image(m, img, tile=0, logits=True)
    assert got.shape == (200, 150) and np.abs(got - ref).max() <= 1e-4
    # the graph pads inside: a size that is not a multiple of 16, batch 3
    assert onnx_max_diff(tmp_path / "sd2net.onnx", m, size=(33, 250), batch=3) <= 1e-4
    # the check can fail: other weights give other outputs
    other = random_bn(create("sd2net"), seed=1)
    assert onnx_max_diff(tmp_path / "sd2net.onnx", other, size=(64, 64)) > 1e-3


def test_std2net_onnx(tmp_path):
    torch.manual_seed(1)
    m = random_bn(create("std2net"))
    rep = export_onnx(m, tmp_path / "std2net.onnx")
    assert max(rep["max_abs_diff"].values()) <= 1e-4
    clip = to01(synth_clip(SynthConfig(size=(90, 120)), np.random.default_rng(4), T=5)[0])
    got = onnx_run(tmp_path / "std2net.onnx", clip[None, None])[0][0, 0]
    assert np.abs(got - predict_image(m, clip, tile=0, logits=True)).max() <= 1e-4


def test_irstd_diff_encoder_and_step(tmp_path):
    from irstd_nb.irstd_diff import IRSTDDiffConfig
    torch.manual_seed(2)
    m = create("irstd_diff", **vars(IRSTDDiffConfig.tiny())).eval()
    with torch.no_grad():
        for p in m.parameters():
            if p.abs().max() == 0: p.normal_(0, 0.05)                 # zero-initialised output convs: make the check see something
    for part in ("encoder", "step"):
        rep = export_onnx(m, tmp_path / f"{part}.onnx", part=part)
        assert max(rep["max_abs_diff"].values()) <= 1e-4, rep
    x = torch.from_numpy(to01(synth_image(SynthConfig(size=(96, 64)), np.random.default_rng(5))[0]))[None, None]
    logit, feat = onnx_run(tmp_path / "encoder.onnx", x)
    with torch.no_grad(): ref = m.ce(m.image(x))[0][0]
    assert np.abs(logit - ref.numpy()).max() <= 1e-4
    with pytest.raises(DataError, match="loop of sampler steps"): export_onnx(m, tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()


def test_export_writes_inside_root_only(tmp_path):
    m = create("sd2net", channels=(4, 4, 4, 4), ratios=(2, 2, 2, 2), rsu_mid=2, head_channels=4).eval()
    with pytest.raises(DataError, match="outside the output folder"):
        export_onnx(m, tmp_path / "a" / ".." / "b.onnx", root=tmp_path / "a", check=False)
    with pytest.raises(ValueError, match="multiple of 32"): export_onnx(m, tmp_path / "c.onnx", size=(50, 64))
    # the model is left as it was: fast BDM, dense head
    flags = [(getattr(x, "bdm_impl", None), getattr(x, "dense", None)) for x in m.modules()]
    export_onnx(m, tmp_path / "d.onnx", check=False)
    assert flags == [(getattr(x, "bdm_impl", None), getattr(x, "dense", None)) for x in m.modules()]
