"Safe by default, as a user meets it: the console command on hostile names, bad arguments and bad places to write."
import json, os, stat, subprocess, sys
from pathlib import Path
import pytest
from test_cli import irstd, synth      # the CLI runner and its module-scoped synthetic dataset (12 images of 64²)

REPO = Path(__file__).resolve().parents[1]


def one_error_line(r, cmd):
    "The command failed with exit 2 and printed exactly one line `irstd-nb CMD: error: …` and no traceback."
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"irstd-nb {cmd}: error: "), r.stderr
    assert "Traceback" not in r.stderr
    return lines[0]


def test_split_file_cannot_reach_outside(tmp_path, synth):
    "A split-file line `../../outside` is refused before anything is read or written; the file outside is untouched."
    ds = tmp_path / "a" / "b" / "ds"
    for d in ("images", "masks", "img_idx"): (ds / d).mkdir(parents=True)
    victim = tmp_path / "a" / "outside.png"
    victim.write_bytes((synth / "images" / "000000.png").read_bytes())
    before = victim.read_bytes()
    (ds / "img_idx" / "test_ds.txt").write_text("../../outside\n")
    r = irstd("predict", "--method", "tophat", "--data", ds, "--split", "test", "--out", ds / "pred", "--quiet", check=False)
    line = one_error_line(r, "predict")
    assert "test_ds.txt, line 1" in line and "'../../outside'" in line
    assert victim.read_bytes() == before and not (ds / "pred").exists()      # refused before anything was written
    (ds / "pred").mkdir()
    r = irstd("eval", "--pred", ds / "pred", "--gt", ds, "--split", "../test", "--quiet", check=False)
    assert "split '../test'" in one_error_line(r, "eval")


def test_split_file_with_bom(tmp_path, synth):
    "A split file saved with a UTF-8 byte-order mark is read correctly (the first name is not '\\ufeff000001')."
    import shutil
    ds = tmp_path / "bom"; shutil.copytree(synth, ds)
    f = next((ds / "img_idx").glob("test_*.txt"))
    names = f.read_text().split()
    f.write_text("\ufeff" + "\r\n".join(names) + "\r\n", encoding="utf-8")
    irstd("predict", "--method", "tophat", "--data", ds, "--split", "test", "--out", tmp_path / "pred", "--quiet")
    assert sorted(p.stem for p in (tmp_path / "pred").glob("*.png")) == sorted(names)


BAD_SYNTH = [
    (["--size", "7"], "size"), (["--size", "0"], "size"), (["--size", "-64"], "size"),
    (["--n", "0"], "--n"), (["--clips", "--frames", "0"], "frames"),
    (["--targets", "3", "1"], "targets"), (["--targets", "-2", "-1"], "targets"),
    (["--scr", "nan", "nan"], "scr"), (["--scr", "-5", "-1"], "scr"), (["--cold", "2"], "cold"),
    (["--test-frac", "0"], "test"), (["--test-frac", "1"], "test"),
]


@pytest.mark.parametrize("args,word", BAD_SYNTH, ids=[" ".join(a) for a, _ in BAD_SYNTH])
def test_bad_synth_arguments(tmp_path, args, word):
    r = irstd("synth", "--out", tmp_path / "s", "--n", "4", *args, "--quiet", check=False) if "--n" not in args else \
        irstd("synth", "--out", tmp_path / "s", *args, "--quiet", check=False)
    assert word in one_error_line(r, "synth").lower()
    assert not (tmp_path / "s" / "images").exists() or not any((tmp_path / "s" / "images").iterdir())


def test_unusable_output_places(tmp_path, synth):
    afile = tmp_path / "afile"; afile.write_text("x")
    for args, cmd, want in [
        (["synth", "--out", afile, "--n", 2, "--quiet"], "synth", "is a file, not a folder"),
        (["synth", "--out", afile / "sub", "--n", 2, "--quiet"], "synth", "cannot be created"),
        (["predict", "--method", "tophat", "--data", synth, "--out", afile, "--quiet"], "predict", "is a file, not a folder"),
        (["info", "sd2net", "--size", 32, "--json", tmp_path], "info", "is a folder, not a file"),
        (["eval", "--pred", synth / "masks", "--gt", synth, "--json", afile / "r.json", "--quiet"], "eval", "is a file"),
    ]:
        assert want in one_error_line(irstd(*args, check=False), cmd)
    assert afile.read_text() == "x"


def test_eval_prints_scores_before_a_failed_json_write(synth):
    "/proc accepts no new files, even from root: the scores are on stdout, then one error line names the file."
    r = irstd("eval", "--pred", synth / "masks", "--gt", synth, "--split", "test", "--json", "/proc/irstd_scores.json", "--quiet",
              check=False)
    line = one_error_line(r, "eval")
    assert "/proc/irstd_scores.json" in line and "cannot write" in line
    assert "IoU (%)        100.00" in r.stdout


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; the file-valued cases cover root")
def test_read_only_out(tmp_path):
    ro = tmp_path / "ro"; ro.mkdir(); ro.chmod(0o555)
    try: assert "not writable" in one_error_line(irstd("synth", "--out", ro / "s", "--n", 2, "--quiet", check=False), "synth")
    finally: ro.chmod(0o755)


def test_written_files_honour_the_umask(tmp_path):
    "Written through atomic_write, files get 0666 & ~umask like any program's, not mkstemp's 0600."
    from test_cli import EXE
    out = tmp_path / "s"
    r = subprocess.run(["bash", "-c", f"umask 022 && '{EXE}' synth --out '{out}' --n 2 --size 32 --quiet"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    modes = {oct(stat.S_IMODE(p.stat().st_mode)) for p in out.rglob("*") if p.is_file() and not p.name.startswith(".irstd-nb.lock")}
    assert modes == {"0o644"}, modes


def test_import_from_the_folder_that_holds_a_clone(tmp_path):
    "A folder named irstd_nb/ (a clone, with its data/) in the working directory must not shadow the installed package."
    (tmp_path / "irstd_nb" / "data").mkdir(parents=True)
    (tmp_path / "irstd_nb" / "nbs").mkdir()
    r = subprocess.run([sys.executable, "-c", "import irstd_nb.classical, irstd_nb; print(irstd_nb.__file__)"],
                       cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.strip()).resolve() == (REPO / "irstd_nb" / "__init__.py").resolve()
