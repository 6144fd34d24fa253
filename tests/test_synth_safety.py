"Issue 9: synth checks every argument, locks its folder, never mixes two datasets and says when targets did not fit."
import json, os, signal, subprocess, sys, textwrap, time, warnings
from dataclasses import replace
from pathlib import Path
import pytest
from irstd_nb.core import DataError
from irstd_nb.synth import SynthConfig, write_dataset

SMALL = SynthConfig(size=32)
LOCKS = {".irstd-nb.lock", ".irstd-nb.lock.json"}


def files(root: Path) -> dict:
    "Relative path → bytes of every file under root, lock files aside."
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and p.name not in LOCKS}


@pytest.mark.parametrize("kw, msg", [
    (dict(size=7), "size (--size) must be ≥ 18"), (dict(size=0), "size (--size) must be ≥ 18"),
    (dict(size=-64), "size (--size) must be ≥ 18"), (dict(size=(256, 12)), "size (--size) must be ≥ 18"),
    (dict(size=17), "size (--size) must be ≥ 18"), (dict(size=2.5), "size (--size) must be an integer"),
    (dict(n_targets=(3, 1)), "n_targets (--targets) must have low ≤ high"), (dict(n_targets=(-2, -1)), "n_targets (--targets) must be ≥ 0"),
    (dict(scr=(float("nan"), float("nan"))), "scr (--scr) must be a finite number"), (dict(scr=(2, float("inf"))), "scr (--scr) must be a finite"),
    (dict(scr=(-5, -1)), "scr (--scr) must be > 0"), (dict(scr=(0, 1)), "scr (--scr) must be > 0"),
    (dict(p_cold=2), "p_cold (--cold) must be ≤ 1"), (dict(p_cold=-0.5), "p_cold (--cold) must be ≥ 0"),
    (dict(frames=0), "frames (--frames) must be an integer ≥ 1"), (dict(bits=12), "bits (--bits) must be 8 or 16"),
    (dict(scene="moon"), "scene (--scene)"), (dict(p_point=0.7, p_spot=0.5), "p_point + p_spot must be ≤ 1"),
    (dict(mask_frac=0), "mask_frac must be > 0"), (dict(ext_aspect=(0.5, 2)), "ext_aspect must be ≥ 1"),
])
def test_config_rejects_bad_settings(kw, msg):
    with pytest.raises(DataError, match=msg.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        SynthConfig(**kw)


def test_config_accepts_the_smallest_size_and_checks_replace():
    SynthConfig(size=18); SynthConfig(size=(18, 500)); SynthConfig(size=16, ext_axis=(3.0, 5.0), spot_fwhm=(2.5, 5.0))
    with pytest.raises(DataError, match="p_cold"):
        replace(SynthConfig(), p_cold=3)


@pytest.mark.parametrize("kw, msg", [
    (dict(n=0), r"n \(--n\) must be an integer ≥ 1, got 0"), (dict(n=-3), r"n \(--n\)"),
    (dict(n=1), "gives 0 test and 1 train items"), (dict(n=10, test_frac=0.02), "gives 0 test and 10 train"),
    (dict(n=10, test_frac=0.97), "gives 10 test and 0 train"), (dict(n=10, test_frac=0.0), r"test_frac \(--test-frac\) must be between 0 and 1"),
    (dict(n=10, test_frac=1.0), "between 0 and 1"), (dict(n=10, test_frac=float("nan")), "between 0 and 1"),
    (dict(n=4, seed=-1), r"seed \(--seed\)"), (dict(n=4, name="../up"), r"name \(--name\)"), (dict(n=4, name="a/b"), r"name \(--name\)"),
])
def test_write_dataset_rejects_bad_arguments(tmp_path, kw, msg):
    with pytest.raises(DataError, match=msg):
        write_dataset(tmp_path / "ds", cfg=SMALL, progress=False, **kw)
    assert not (tmp_path / "ds").exists()


def test_too_many_targets_are_reported(tmp_path):
    with pytest.warns(UserWarning, match=r"placed \d+ of the 1000 targets asked for") as rec:
        s = write_dataset(tmp_path / "crowd", 2, SynthConfig(size=64, n_targets=(500, 500)), progress=False)
    assert s["targets_requested"] == 1000 and 0 < s["targets_placed"] < 1000
    assert f"placed {s['targets_placed']} of the 1000" in str(rec[0].message)
    assert json.loads((tmp_path / "crowd/synth.json").read_text())["targets_placed"] == s["targets_placed"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                     # no warning when everything fits
        s = write_dataset(tmp_path / "ok", 4, SynthConfig(size=64, n_targets=(1, 2)), progress=False)
    assert s["targets_placed"] == s["targets_requested"]


def test_second_run_refused_then_overwrite_replaces_exactly(tmp_path):
    out = tmp_path / "ds"
    write_dataset(out, 10, SMALL, seed=1, progress=False)
    before = files(out)
    with pytest.raises(DataError, match="is not empty"):
        write_dataset(out, 5, SMALL, seed=2, progress=False)
    assert files(out) == before                                            # refused: nothing changed
    (out / "README.txt").write_text("notes")
    with pytest.warns(UserWarning, match="kept 1 files it did not write: README.txt"):
        write_dataset(out, 5, SMALL, seed=2, progress=False, overwrite=True)
    assert len(list((out / "images").glob("*.png"))) == 5 and len(list((out / "masks").glob("*.png"))) == 5
    assert (out / "README.txt").read_text() == "notes"
    fresh = tmp_path / "fresh" / "ds"
    write_dataset(fresh, 5, SMALL, seed=2, progress=False)
    assert {k: v for k, v in files(out).items() if k != "README.txt"} == files(fresh)   # as if written into an empty folder


def test_overwrite_clips_by_images(tmp_path):
    out = tmp_path / "ds"
    write_dataset(out, 3, SynthConfig(size=32, frames=4), clips=True, progress=False)
    write_dataset(out, 4, SMALL, progress=False, overwrite=True)
    assert sorted(p.name for p in (out / "images").iterdir()) == [f"{i:06d}.png" for i in range(4)]   # no seq_ folders left
    assert not (out / "video_idx").exists()


def test_overwrite_never_deletes_unrecorded_files(tmp_path):
    out = tmp_path / "mine"; out.mkdir()
    (out / "thesis.tex").write_text("years")
    for ow in (False, True):
        with pytest.raises(DataError, match="is not empty" if not ow else "no synth run recorded"):
            write_dataset(out, 4, SMALL, progress=False, overwrite=ow)
    assert (out / "thesis.tex").read_text() == "years"
    empty = tmp_path / "empty"; empty.mkdir(); (empty / "sub").mkdir()       # empty folders do not count
    write_dataset(empty, 4, SMALL, progress=False)


def test_overwrite_refuses_a_manifest_pointing_outside(tmp_path):
    out = tmp_path / "ds"; victim = tmp_path / "victim.txt"; victim.write_text("keep")
    write_dataset(out, 4, SMALL, progress=False)
    meta = json.loads((out / "synth.json").read_text()); meta["files"].append("../victim.txt")
    (out / "synth.json").write_text(json.dumps(meta))
    with pytest.raises(DataError, match="not a plain relative name"):
        write_dataset(out, 4, SMALL, progress=False, overwrite=True)
    assert victim.read_text() == "keep"


def test_overwrite_does_not_follow_a_folder_link_outside(tmp_path):
    out = tmp_path / "ds"; elsewhere = tmp_path / "elsewhere"
    write_dataset(out, 4, SMALL, progress=False)
    os.rename(out / "images", elsewhere); os.symlink(elsewhere, out / "images")
    with pytest.raises(DataError, match="outside the output folder"):
        write_dataset(out, 4, SMALL, progress=False, overwrite=True)
    assert len(list(elsewhere.glob("*.png"))) == 4


def _python(code: str):
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS="1"))


def test_concurrent_run_fails_at_once_naming_folder_and_holder(tmp_path):
    out = tmp_path / "ds"
    holder = _python(f"""
        import time
        from irstd_nb.core import locked
        with locked({str(out)!r}, folder=True):
            print("locked", flush=True); time.sleep(60)""")
    try:
        assert holder.stdout.readline().strip() == "locked"
        t0 = time.perf_counter()
        with pytest.raises(DataError, match=rf"{out}: is in use by process {holder.pid} "):
            write_dataset(out, 4, SMALL, progress=False)
        assert time.perf_counter() - t0 < 5
    finally:
        holder.kill(); holder.wait()
    write_dataset(out, 4, SMALL, progress=False)                           # the holder died: the lock is free


def test_killed_run_reruns_byte_identically(tmp_path):
    out, ref = tmp_path / "cut" / "ds", tmp_path / "ref" / "ds"
    cfg = "SynthConfig(size=96, n_targets=(2, 3))"
    proc = _python(f"""
        from irstd_nb.synth import SynthConfig, write_dataset
        print("start", flush=True)
        write_dataset({str(out)!r}, 400, {cfg}, seed=9, progress=False)""")
    try:
        assert proc.stdout.readline().strip() == "start"
        deadline = time.time() + 60
        while len(list((out / "images").glob("*.png"))) < 5 and time.time() < deadline: time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill(); proc.wait()
    assert (out / "synth.partial.json").is_file() and not (out / "synth.json").exists()
    write_dataset(out, 12, SynthConfig(size=96, n_targets=(2, 3)), seed=9, progress=False)     # no --overwrite needed
    write_dataset(ref, 12, SynthConfig(size=96, n_targets=(2, 3)), seed=9, progress=False)
    assert files(out) == files(ref)
