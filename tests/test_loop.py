"The research loop end to end from the command line: train → test → predict → export, on synthetic data and on SIRST v1."
import csv, json
from pathlib import Path
import numpy as np
import pytest
from test_cli import irstd
from test_safety import one_error_line

TINY = ["--set", "epochs=2", "--set", "crop=32", "--set", "batch_size=4", "--set", "eval_every=1", "--quiet"]


@pytest.fixture(scope="module")
def syn(tmp_path_factory):
    out = tmp_path_factory.mktemp("loop") / "syn"
    irstd("synth", "--out", out, "--n", 16, "--size", 48, "--seed", 5, "--quiet")
    return out


@pytest.fixture(scope="module")
def run(syn, tmp_path_factory):
    out = tmp_path_factory.mktemp("loop") / "run"
    r = irstd("train", "sd2net", "--data", syn, "--out", out, *TINY)
    assert "trained sd2net for 2 epochs" in r.stdout
    return out


def test_train_writes_the_run_folder(run, syn):
    for f in ["config.json", "metrics.csv", "curves.png", "last.pt", "best.safetensors", "test.json", "splits/train.txt", "splits/val.txt"]:
        assert (run / f).is_file(), f
    conf = json.loads((run / "config.json").read_text())
    assert conf["train"]["epochs"] == 2 and conf["train"]["crop"] == 32 and conf["model"] == "sd2net"
    assert conf["provenance"]["torch"] and conf["fingerprint"]
    rows = list(csv.DictReader(open(run / "metrics.csv")))
    assert [r["epoch"] for r in rows] == ["1", "2"] and all(r["val_iou"] != "" for r in rows)
    val = set((run / "splits/val.txt").read_text().split())
    test = set(next((syn / "img_idx").glob("test_*.txt")).read_text().split())
    train = set((run / "splits/train.txt").read_text().split())
    assert val and not (val & test) and not (val & train) and not (train & test)


def test_test_matches_the_runs_own_test_json(run, syn, tmp_path):
    r = irstd("test", run, "--data", syn, "--json", tmp_path / "t.json", "--quiet")
    got, stored = json.loads((tmp_path / "t.json").read_text()), json.loads((run / "test.json").read_text())
    for k in ("iou", "pd", "fa", "n_images", "n_targets"):
        assert got[k] == pytest.approx(stored[k], rel=1e-6, abs=1e-9), k
    assert "IoU (%)" in r.stdout


def test_predict_and_eval_agree_with_test(run, syn, tmp_path):
    irstd("predict", "--model", run / "best.safetensors", "--data", syn, "--split", "test", "--out", tmp_path / "pred", "--overlay", "--quiet")
    names = next((syn / "img_idx").glob("test_*.txt")).read_text().split()
    assert sorted(p.stem for p in (tmp_path / "pred").glob("*.png")) == sorted(names)
    assert len(list((tmp_path / "pred" / "overlays").glob("*.png"))) == len(names)
    head = (tmp_path / "pred" / "detections.csv").read_text().splitlines()[0]
    assert head.split(",")[:2] == ["image", "target"]
    irstd("eval", "--pred", tmp_path / "pred", "--gt", syn, "--split", "test", "--json", tmp_path / "e.json", "--quiet")
    e, t = json.loads((tmp_path / "e.json").read_text()), json.loads((run / "test.json").read_text())
    assert e["n_images"] == t["n_images"] and e["n_targets"] == t["n_targets"]
    assert abs(e["iou"] - t["iou"]) < 0.02                          # 8-bit PNG round trip versus direct scoring


def test_export_onnx(run, tmp_path):
    pytest.importorskip("onnxruntime")
    r = irstd("export", run, "--onnx", tmp_path / "m.onnx")
    assert (tmp_path / "m.onnx").stat().st_size > 100_000 and "max |diff|" in r.stdout


def test_resume_and_bad_runs(run, syn, tmp_path):
    assert "already holds a run" in one_error_line(irstd("train", "sd2net", "--data", syn, "--out", run, *TINY, check=False), "train")
    assert "unknown key 'epoch'" in one_error_line(
        irstd("train", "sd2net", "--data", syn, "--out", tmp_path / "r", "--set", "epoch=1", check=False), "train")
    assert "epochs takes int" in one_error_line(
        irstd("train", "sd2net", "--data", syn, "--out", tmp_path / "r", "--set", "epochs=two", check=False), "train")
    assert "unknown recipe" in one_error_line(
        irstd("train", "sd2net", "--data", syn, "--out", tmp_path / "r", "--recipe", "huge", check=False), "train")
    assert "nothing to resume" in one_error_line(
        irstd("train", "sd2net", "--data", syn, "--out", tmp_path / "r2", "--resume", check=False), "train")
    assert not (tmp_path / "r" / "last.pt").exists()
    assert "--val-frac must lie" in one_error_line(
        irstd("train", "sd2net", "--data", syn, "--out", tmp_path / "r3", "--val-frac", "5", check=False), "train")
    assert "apply to --model only" in one_error_line(
        irstd("predict", "--method", "tophat", "--data", syn, "--out", tmp_path / "p3", "--tile", "64", check=False), "predict")
    assert not (tmp_path / "r3").exists() and not (tmp_path / "p3").exists()          # refused before anything was created
    std = irstd("test", run, "--data", syn, "--split", "nope", check=False)
    assert "nope" in one_error_line(std, "test")


def test_weights_of_another_model_are_named(run, tmp_path):
    import torch
    from irstd_nb.inference import save_weights
    from irstd_nb.models import create
    save_weights(tmp_path / "std.safetensors", create("std2net"), "std2net", {})
    data = (tmp_path / "std.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) // 2])
    assert "cut.safetensors" in one_error_line(irstd("export", tmp_path / "cut.safetensors", "--onnx", tmp_path / "x.onnx", check=False), "export")
    save_weights(tmp_path / "mislabelled.safetensors", create("std2net"), "sd2net", {})      # std2net's tensors, labelled sd2net
    line = one_error_line(irstd("test", tmp_path / "mislabelled.safetensors", "--data", "synth", check=False), "test")
    assert "mislabelled.safetensors" in line and "std2net" in line
    assert not (tmp_path / "x.onnx").exists()


def test_sirst_loop(sirst_root, tmp_path):
    "On the real SIRST v1 (idx_427: train 256 / val 85 / test 86): the dataset's own val split is used, test scored once."
    out = tmp_path / "run"
    irstd("train", "sd2net", "--data", sirst_root, "--out", out, "--set", "steps=3", "--set", "crop=64", "--set", "batch_size=4", "--quiet")
    conf = json.loads((out / "config.json").read_text())
    assert conf["splits"] == dict(val="the dataset's own val split", n_train=256, n_val=85)
    t = json.loads((out / "test.json").read_text())
    assert t["n_images"] == 86
    irstd("test", out, "--data", sirst_root, "--split", "test", "--json", tmp_path / "t.json", "--quiet")
    again = json.loads((tmp_path / "t.json").read_text())
    assert again["iou"] == pytest.approx(t["iou"], rel=1e-6, abs=1e-9) and again["n_targets"] == t["n_targets"]
    irstd("test", out, "--data", sirst_root, "--split", "val", "--legacy", "sd2net", "--json", tmp_path / "v.json", "--quiet")
    assert json.loads((tmp_path / "v.json").read_text())["options"]["pdfa_threshold"] == "half_max"
    irstd("predict", "--model", out, "--data", sirst_root, "--split", "test", "--out", tmp_path / "pred", "--quiet")
    assert len(list((tmp_path / "pred").glob("*.png"))) == 86


def test_synth_is_a_dataset_everywhere(tmp_path):
    "`synth` names the built-in dataset for predict and eval too (generated once into IRSTD_CACHE, then reused)."
    irstd("predict", "--method", "tophat", "--data", "synth", "--split", "test", "--out", tmp_path / "p", "--quiet")
    r = irstd("eval", "--pred", tmp_path / "p", "--gt", "synth", "--split", "test", "--quiet")
    assert "images         72" in r.stdout                          # 30 % of the 240 built-in images


def test_bench(tmp_path):
    r = irstd("bench", "sd2net", "--size", 48, "--batch", 2, "--steps", 2, "--warmup", 1, "--json", tmp_path / "b.json")
    b = json.loads((tmp_path / "b.json").read_text())
    assert b["train"]["images_per_s"] > 0 and b["infer"]["peak_mb"] > 0 and "images/s" in r.stdout
    import torch
    if not torch.cuda.is_available():
        assert "no CUDA device" in one_error_line(irstd("bench", "sd2net", "--device", "cuda", check=False), "bench")


def test_predict_on_a_video(tmp_path):
    "STD2Net on an MP4 clip: sliding windows of 5 frames, one map per frame (needs the optional imageio + imageio-ffmpeg)."
    iio = pytest.importorskip("imageio.v3"); pytest.importorskip("imageio_ffmpeg")
    from irstd_nb.inference import save_weights
    from irstd_nb.models import create
    from irstd_nb.synth import SynthConfig, synth_clip
    x, _, _ = synth_clip(SynthConfig(size=64, frames=7), np.random.default_rng(0))
    frames = (np.clip(x, 0, 1) * 255).astype(np.uint8)
    iio.imwrite(tmp_path / "clip.mp4", np.repeat(frames[..., None], 3, -1), fps=10, codec="libx264", macro_block_size=16)
    save_weights(tmp_path / "std.safetensors", create("std2net"), "std2net", {})
    r = irstd("predict", "--model", tmp_path / "std.safetensors", "--data", tmp_path / "clip.mp4", "--out", tmp_path / "pred", "--quiet")
    maps = sorted((tmp_path / "pred").rglob("*.png"))
    assert len(maps) == len(frames), (r.stdout, maps)
    assert (tmp_path / "pred" / "detections.csv").is_file()
    (tmp_path / "junk.mp4").write_bytes(b"not a video")
    assert "junk.mp4" in one_error_line(irstd("predict", "--model", tmp_path / "std.safetensors", "--data", tmp_path / "junk.mp4",
                                              "--out", tmp_path / "p2", "--quiet", check=False), "predict")


def test_import_weights_command(tmp_path):
    "An authors'-layout checkpoint (built from our weights by the inverse mapping, wrapped as their trainer saves it)."
    import torch
    from irstd_nb.import_weights import ours_to_authors
    from irstd_nb.inference import load
    from irstd_nb.models import create
    torch.manual_seed(3); ours = create("sd2net")
    theirs = {f"module.{k}": v for k, v in ours_to_authors(ours.state_dict()).items()}
    torch.save(dict(epoch=7, state_dict=theirs, total_loss=0.1), tmp_path / "SDecNet.pth.tar")
    r = irstd("import-weights", "sd2net", tmp_path / "SDecNet.pth.tar", "--out", tmp_path / "w.safetensors")
    assert "268,206 parameters" in r.stdout
    back = load(tmp_path / "w.safetensors").state_dict()
    for k, v in ours.state_dict().items(): assert torch.equal(back[k], v), k
    (tmp_path / "bad.pth.tar").write_bytes(b"\x00" * 10)
    assert "bad.pth.tar" in one_error_line(irstd("import-weights", "sd2net", tmp_path / "bad.pth.tar", "--out", tmp_path / "x.safetensors",
                                                 check=False), "import-weights")


def test_test_by_target_adds_up_to_pd(run, syn, tmp_path):
    "`test --by-target`: the per-target table's detections add up to the reported Pd, and it is printed."
    r = irstd("test", run, "--data", syn, "--by-target", "--json", tmp_path / "t.json", "--quiet")
    assert "Pd by area" in r.stdout and "Pd by local SCR" in r.stdout
    t = json.loads((tmp_path / "t.json").read_text())
    assert len(t["targets"]) == t["n_targets"] and sum(x["detected"] for x in t["targets"]) == t["n_matched"]
    assert sum(b["n"] for b in t["by_target"]["by_size"]) == t["n_targets"]
    assert sum(a["area"] for a in t["false_alarms"]) == t["fa_pixels"]


def test_models_lists_the_shipped_models():
    from irstd_nb.inference import shipped_weights
    r = irstd("models")
    for name in shipped_weights(): assert name in r.stdout
