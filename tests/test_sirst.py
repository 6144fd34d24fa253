"The real SIRST v1 dataset (read-only, under $IRSTD_DATA/SIRST) reads completely and splits as published."
import warnings
import numpy as np
import pytest
from irstd_nb.data import IRSTDDataset, detect_layout, resolve_split


def test_layout_and_split_sizes(sirst_root):
    assert detect_layout(sirst_root) == "sirst"
    tv, te = resolve_split(sirst_root, "trainval"), resolve_split(sirst_root, "test")
    assert (len(tv), len(te)) == (341, 86)
    assert not {n for n, *_ in tv} & {n for n, *_ in te}


def test_all_427_images_load_with_masks(sirst_root):
    ds = IRSTDDataset(sirst_root, "trainvaltest")
    assert len(ds) == 427
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        n_targets = 0
        for i in range(len(ds)):
            x, m, name = ds[i]
            assert x.dtype == m.dtype and x.shape == m.shape and x.shape[0] == 1, name
            assert 0 <= float(x.min()) and float(x.max()) <= 1, name
            assert set(np.unique(m.numpy())) <= {0.0, 1.0}, name
            n_targets += bool(m.sum())
    # every SIRST image holds at least one target; one mask (Misc_111) is stored at another scale
    assert n_targets == 427
    assert [str(w.message).split(":")[0].rsplit("/", 1)[-1] for w in caught] == ["Misc_111_pixels0.png"]


def test_strict_mask_policy_names_the_file(sirst_root):
    from irstd_nb.core import DataError
    ds = IRSTDDataset(sirst_root, "test", mask_size="strict")
    i = ds.names.index("Misc_111")
    with pytest.raises(DataError, match="Misc_111_pixels0.png: mask is 592x400"):
        ds[i]
