"The console command end to end, as a user runs it."
import json, shutil, subprocess, sys
from pathlib import Path
import pytest

# the console script installed by `pip install -e .`, next to this interpreter (or on PATH)
EXE = shutil.which("irstd-nb", path=str(Path(sys.executable).parent)) or shutil.which("irstd-nb")


def irstd(*args, check=True):
    assert EXE, "the irstd-nb console command is not installed: run pip install -e '.[dev]'"
    r = subprocess.run([EXE, *map(str, args)], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"irstd-nb {' '.join(map(str, args))} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "syn"
    irstd("synth", "--out", out, "--n", 12, "--size", 64, "--seed", 3, "--quiet")
    return out


def test_synth_layout_and_determinism(synth, tmp_path):
    for p in ["images/000000.png", "masks/000011.png", "img_idx/train_syn.txt", "img_idx/test_syn.txt", "targets.csv", "synth.json"]:
        assert (synth / p).is_file(), p
    again = tmp_path / "syn"
    irstd("synth", "--out", again, "--n", 12, "--size", 64, "--seed", 3, "--quiet")
    for p in sorted(synth.rglob("*.png")) + [synth / "targets.csv", synth / "img_idx/test_syn.txt"]:
        assert (again / p.relative_to(synth)).read_bytes() == p.read_bytes(), p
    other = tmp_path / "other"
    irstd("synth", "--out", other, "--n", 12, "--size", 64, "--seed", 4, "--quiet")
    assert (other / "images/000000.png").read_bytes() != (synth / "images/000000.png").read_bytes()


def test_predict_then_eval(synth, tmp_path):
    irstd("predict", "--method", "tophat", "--data", synth, "--split", "test", "--out", tmp_path / "pred", "--quiet")
    test_names = (synth / "img_idx/test_syn.txt").read_text().split()
    assert sorted(p.stem for p in (tmp_path / "pred").glob("*.png")) == sorted(test_names)
    r = irstd("eval", "--pred", tmp_path / "pred", "--gt", synth, "--split", "test", "--json", tmp_path / "r.json", "--quiet")
    assert "IoU" in r.stdout and "Fa" in r.stdout
    res = json.loads((tmp_path / "r.json").read_text())
    for k in ("iou", "niou", "pd", "fa", "n_images", "n_targets"):
        assert k in res, k
    assert res["n_images"] == len(test_names)
    assert 0 <= res["iou"] <= 1 and 0 <= res["pd"] <= 1


def test_eval_of_the_masks_themselves_is_perfect(synth):
    r = irstd("eval", "--pred", synth / "masks", "--gt", synth, "--split", "train", "--quiet")
    assert "IoU (%)        100.00" in r.stdout and "Pd (%)         100.00" in r.stdout


def test_errors_name_the_file(synth, tmp_path):
    r = irstd("eval", "--pred", tmp_path / "missing", "--gt", synth, "--quiet", check=False)
    assert r.returncode == 2 and "missing: prediction folder not found" in r.stderr
    empty = tmp_path / "emptysplit"; (empty / "img_idx").mkdir(parents=True); (empty / "images").mkdir(); (empty / "masks").mkdir()
    (empty / "img_idx/test_emptysplit.txt").write_text("\n")
    r = irstd("predict", "--method", "tophat", "--data", empty, "--out", tmp_path / "p", "--quiet", check=False)
    assert r.returncode == 2 and "test_emptysplit.txt: split file is empty" in r.stderr


@pytest.mark.parametrize("cmd", ["synth", "predict", "eval"])
def test_help_explains_every_option(cmd):
    r = irstd(cmd, "--help")
    assert r.returncode == 0 and "usage: irstd-nb " + cmd in r.stdout
    from irstd_nb.cli import build_parser
    import argparse
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices[cmd]
    for act in sub._actions:
        assert act.help, f"{cmd}: option {act.option_strings} has no help"
        for opt in act.option_strings:
            assert opt in r.stdout


def test_info_json(tmp_path):
    r = irstd("info", "std2net", "--size", 64, "--opt", "variant=A", "--json", tmp_path / "i.json")
    info = json.loads((tmp_path / "i.json").read_text())
    assert info["params"]["total"] == 273_733 and info["input_shape"] == [1, 1, 5, 64, 64]
    assert info["macs_per_image"] == sum(info["macs_by_part"].values()) > 0
    assert "MACs/image" in r.stdout
    r = irstd("info", "irstd_diff", "--json", tmp_path / "d.json")    # counted on the meta device, full size
    d = json.loads((tmp_path / "d.json").read_text())
    c = d["cost"]
    assert round(d["params"]["total"] / 1e6, 2) == 39.56 and d["input_shape"] == [1, 1, 256, 256]
    assert c["per_image_original"] == 100 * c["step_original"] and c["step_original"] == c["encoder"] + c["unet_step"]
    assert d["macs_per_image"] == c["per_image"] == c["encoder"] + 10 * c["unet_step"] and c["reduction"] >= 10
    assert "MACs/step" in r.stdout and "per image" in r.stdout
    bad = irstd("info", "sd2net", "--opt", "head=mlp", check=False)
    assert bad.returncode == 2 and "head must be" in bad.stderr
