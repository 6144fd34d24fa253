"""The explorers of irstd_nb.explore, driven headless as a student would drive them (nbs/31_explorers has more)."""
import ipywidgets as W
import numpy as np
import pytest

from irstd_nb import explore as E
from irstd_nb.metrics import SegMetrics


@pytest.mark.parametrize("make", [E.scene_explorer, E.threshold_explorer, E.wavelet_explorer, E.diffusion_explorer,
                                  E.basis_explorer])
def test_returns_a_drawn_widget(make):
    ex = make()
    assert isinstance(ex, W.VBox) and isinstance(ex.info, W.HTML) and isinstance(ex.view, W.Image)
    assert ex.state and ex.info.value and ex.view.value[:8] == b"\x89PNG\r\n\x1a\n"
    before = ex.info.value
    name, c = next(iter(ex.controls.items()))
    new = c.options[-1] if hasattr(c, "options") else (c.max if c.value != c.max else c.min)
    ex.set(**{name: new})
    assert ex.info.value != before                       # the line shown follows the control


def test_threshold_numbers_match_segmetrics():
    ex = E.threshold_explorer()
    for t in (0.1, 0.3, 0.6, 0.9):
        s = ex.set(threshold=t)
        m = SegMetrics(threshold=t).update(ex.prob, ex.mask).compute()
        np.testing.assert_allclose([s["iou"], s["pd"], s["fa"]], [m["iou"], m["pd"], m["fa"]], rtol=1e-9)
        assert f"threshold <b>{t:.2f}</b>" in ex.info.value


def test_threshold_explorer_on_given_maps():
    mask = np.zeros((32, 32), bool); mask[10:13, 10:13] = True; mask[20:22, 25:27] = True
    prob = np.zeros((32, 32), np.float32); prob[10:13, 10:13] = 0.9; prob[20:22, 25:27] = 0.4; prob[2, 2] = 0.6
    ex = E.threshold_explorer(np.random.default_rng(0).random((32, 32)), prob, mask)
    s = ex.set(threshold=0.5)
    assert (s["n_matched"], s["n_gt"], s["fa_pixels"]) == (1, 2, 1)
    s = ex.set(threshold=0.3)
    assert (s["n_matched"], s["fa_pixels"], s["iou"]) == (2, 1, 13 / 14)


def test_scene_scr_follows_slider():
    ex = E.scene_explorer(size=48)
    for scr in (1.0, 4.0, 8.0):
        assert abs(ex.set(scr=scr)["scr"] - scr) < 0.15 * scr + 0.2


def test_training_monitor_as_fit_log():
    mon = E.training_monitor()
    mon.log(dict(epoch=1, loss=0.9)); mon.log(dict(epoch=2, loss=0.7, val_iou=0.2, val_pd=0.5, val_fa=1e-4))
    assert "val IoU <b>0.200</b>" in mon.info.value and len(mon.history) == 2


def test_figures_are_small():
    img, mask, recs = E.demo_scene()
    assert len(E.patch_surface(img, recs[0]["cy"], recs[0]["cx"]).to_json()) < 50_000
    f = E.pd_fa_figure(img, mask)
    assert len(f.data[0].customdata) == 49


def test_walkthrough_solutions_are_executed():
    "Every 'Try this' solution shown in a <details> block of the walkthrough is the code of a hidden cell that runs."
    import json, re
    from pathlib import Path
    nb = json.loads((Path(__file__).resolve().parents[1] / "nbs" / "30_walkthrough.ipynb").read_text())
    src = ["".join(c["source"]) for c in nb["cells"]]
    hidden = [s.removeprefix("#| hide\n") for s, c in zip(src, nb["cells"]) if c["cell_type"] == "code" and s.startswith("#| hide")]
    shown = [m for s, c in zip(src, nb["cells"]) if c["cell_type"] == "markdown"
             for m in re.findall(r"<details>.*?```python\n(.*?)\n```", s, re.S)]
    assert len(shown) >= 5 and len([s for s in src if "**Try this.**" in s]) == len(shown)
    for code in shown: assert code in hidden, code[:80]


def test_roc_figure_hover_thresholds():
    img, mask, _ = E.demo_scene()
    f = E.roc_figure(img, mask)
    assert len(f.data[0].customdata) == 49 and "AUC" in f.layout.title.text
