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
