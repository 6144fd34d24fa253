import os
from pathlib import Path
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    "Keep cached statistics out of the user's home during tests."
    monkeypatch.setenv("IRSTD_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def sirst_root():
    from irstd_nb.core import data_root
    root = data_root() / "SIRST"
    if not (root / "images").is_dir():
        pytest.skip(f"real SIRST data not found at {root}: set IRSTD_DATA to the folder holding SIRST/ to run this test")
    return root


def randomise_bn(m, seed=0):
    "Give every BatchNorm2d of `m` seeded, non-trivial running statistics (as after training) and put `m` in eval mode."
    import torch
    g = torch.Generator().manual_seed(seed)
    for b in m.modules():
        if isinstance(b, torch.nn.BatchNorm2d):
            b.running_mean.copy_(torch.rand(b.running_mean.shape, generator=g) * 0.2 - 0.1)
            b.running_var.copy_(torch.rand(b.running_var.shape, generator=g) + 0.5)
    return m.eval()
