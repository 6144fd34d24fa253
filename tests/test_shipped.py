"""The weights that ship inside the package load offline and reproduce their model cards' test scores.
A card whose data is a real dataset is checked where that dataset is present (skipped with a message otherwise)."""
import json
import pytest
from irstd_nb.inference import WEIGHTS_DIR, shipped_weights

CARDS = sorted(p.stem for p in WEIGHTS_DIR.glob("*.json") if not p.name.startswith(".")) if WEIGHTS_DIR.is_dir() else []


def test_every_shipped_model_has_its_four_files():
    have = shipped_weights()
    assert set(have) == set(CARDS), f"weights without a card or cards without weights: {set(have) ^ set(CARDS)}"
    for n in have:
        for suffix in (".md", ".json", "-log.csv"):
            assert (WEIGHTS_DIR / f"{n}{suffix}").is_file(), f"{n}: {n}{suffix} missing"
        assert (WEIGHTS_DIR / f"{n}.safetensors").stat().st_size < 5e6


@pytest.mark.parametrize("name", CARDS)
def test_shipped_weights_reproduce_their_card(name):
    import hashlib
    from irstd_nb.cards import reproduce, source_root
    card = json.loads((WEIGHTS_DIR / f"{name}.json").read_text())
    assert hashlib.sha256((WEIGHTS_DIR / f"{name}.safetensors").read_bytes()).hexdigest() == card["sha256"]
    if card["source"] != "synth" and not (source_root(card["source"]) / "images").is_dir():
        pytest.skip(f"{name}: its data {source_root(card['source'])} is absent; set IRSTD_DATA to run this test")
    stated, fresh = reproduce(name)
    assert fresh["n_images"] == stated["n_images"] and fresh["n_targets"] == stated["n_targets"]
    assert abs(fresh["iou"] - stated["iou"]) <= 2e-3, (fresh["iou"], stated["iou"])
    assert abs(fresh["pd"] - stated["pd"]) <= 1.01 / max(stated["n_targets"], 1), (fresh["pd"], stated["pd"])
    assert abs(fresh["fa"] - stated["fa"]) <= 0.1 * stated["fa"] + 1e-6, (fresh["fa"], stated["fa"])


@pytest.mark.parametrize("name", CARDS[:1])
def test_shipped_model_predicts_from_the_command_line(name, tmp_path):
    from irstd_nb.inference import load, model_kind
    if model_kind(load(name, "cpu")) != "image": pytest.skip("a clip model")
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(0)
    img = (rng.random((64, 80)) * 40 + 60).astype(np.uint8); img[30:33, 40:43] = 250
    Image.fromarray(img).save(tmp_path / "a.png")
    from test_cli import irstd
    irstd("predict", "--model", name, "--data", tmp_path / "a.png", "--out", tmp_path / "out", "--quiet")
    m = np.asarray(Image.open(tmp_path / "out" / "a.png"))
    assert m.shape == (64, 80) and m[31, 41] > m.mean()


def test_unknown_shipped_name_lists_the_shipped_ones():
    from irstd_nb.core import DataError
    from irstd_nb.inference import load
    with pytest.raises(DataError, match="shipped model"):
        load("sd2net-nowhere")
