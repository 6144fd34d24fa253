"The same small dataset written in every supported layout and file format reads back identically."
import shutil
import numpy as np
import pytest
from PIL import Image
from irstd_nb.core import DataError, read_image
from irstd_nb.data import IRSTDDataset, detect_layout
from irstd_nb.synth import SynthConfig, write_dataset


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("base") / "toy"
    write_dataset(root, 8, SynthConfig(size=(40, 48)), seed=5, name="toy", test_frac=0.5, progress=False)
    return root


def names(root, split):
    return (root / "img_idx" / f"{split}_toy.txt").read_text().split()


def save_image(x8, path, fmt):
    "Write an 8-bit grey array in a given file format / Pillow mode."
    im = Image.fromarray(x8)
    if fmt == "rgb_bmp": im.convert("RGB").save(path.with_suffix(".bmp"))
    elif fmt == "p_png": im.convert("P").save(path.with_suffix(".png"))
    elif fmt == "tif16": Image.fromarray(x8.astype(np.uint16) * 257).save(path.with_suffix(".tif"))
    else: im.save(path.with_suffix(".png"))


def save_mask(m, path, fmt):
    if fmt == "mode1": Image.fromarray(m).save(path)
    elif fmt == "rgb255": Image.fromarray(np.stack([m.astype(np.uint8) * 255] * 3, -1)).save(path)
    else: Image.fromarray(m.astype(np.uint8) * 255).save(path)


def build(base, dst, layout, img_fmt, mask_fmt):
    splits = {"trainval": names(base, "train"), "test": names(base, "test")}
    for split, ns in splits.items():
        for n in ns:
            x8 = np.asarray(Image.open(base / "images" / f"{n}.png"))
            m = np.asarray(Image.open(base / "masks" / f"{n}.png")) > 127
            if layout == "folders":
                im_dir, mk_dir, mname = dst / split / "images", dst / split / "masks", f"{n}.png"
            else:
                im_dir, mk_dir = dst / "images", dst / "masks"
                mname = f"{n}_pixels0.png" if layout == "sirst" else f"{n}.png"
            im_dir.mkdir(parents=True, exist_ok=True); mk_dir.mkdir(parents=True, exist_ok=True)
            save_image(x8, im_dir / n, img_fmt); save_mask(m, mk_dir / mname, mask_fmt)
    lines = {k: "\n".join(v) for k, v in splits.items()}
    if layout == "sirst":
        (dst / "idx_427").mkdir(); [(dst / "idx_427" / f"{k}.txt").write_text(v) for k, v in lines.items()]
        (dst / "idx_427" / "train.txt").write_text(lines["trainval"])
    elif layout == "dnanet":
        (dst / "50_50").mkdir(); (dst / "50_50/train.txt").write_text(lines["trainval"]); (dst / "50_50/test.txt").write_text(lines["test"] + "\n")
    elif layout == "mshnet":
        [(dst / f"{k}.txt").write_text(v + "\n") for k, v in lines.items()]
    return dst


CASES = [("sirst", "p_png", "mode1"), ("dnanet", "rgb_bmp", "rgb255"), ("mshnet", "tif16", "l255"), ("folders", "png", "mode1")]


@pytest.mark.parametrize("layout,img_fmt,mask_fmt", CASES)
def test_layout_reads_identically(base, tmp_path, layout, img_fmt, mask_fmt):
    dst = build(base, tmp_path / layout, layout, img_fmt, mask_fmt)
    assert detect_layout(dst) == layout
    ref = IRSTDDataset(base, "test")
    ds = IRSTDDataset(dst, "test")
    assert ds.names == ref.names or sorted(ds.names) == sorted(ref.names)
    for n in ref.names:
        x0, m0, _ = ref[ref.names.index(n)]
        x1, m1, _ = ds[ds.names.index(n)]
        assert np.array_equal(m0.numpy(), m1.numpy()), (layout, n)
        assert np.abs(x0.numpy() - x1.numpy()).max() <= 1 / 255 + 1e-6, (layout, n)   # palette/luma rounding at most 1 level
    train = IRSTDDataset(dst, "train")                  # 'train' falls back to trainval where only that exists
    assert len(train) == len(names(base, "train"))


def test_basicirstd_other_split_names_and_errors(base, tmp_path):
    root = tmp_path / "b"; shutil.copytree(base, root)
    with pytest.raises(DataError, match="no split file val_<name>.txt"):
        IRSTDDataset(root, "val")
    (root / "img_idx" / "test_other.txt").write_text("000000\n")
    with pytest.raises(DataError, match="several split files"):
        IRSTDDataset(root, "test")
    unknown = tmp_path / "unknown"; unknown.mkdir(); (unknown / "a.png").write_bytes(b"")
    with pytest.raises(DataError, match="unknown dataset layout"):
        IRSTDDataset(unknown, "test")


def test_16bit_scaled_by_bit_depth(tmp_path):
    v = np.array([[0, 1000, 65535]], np.uint16)
    Image.fromarray(v).save(tmp_path / "a.png")
    assert np.allclose(read_image(tmp_path / "a.png"), v / 65535)
