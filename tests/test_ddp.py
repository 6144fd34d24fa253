"torchrun + DistributedDataParallel on the CPU (gloo): 2 processes × batch 2 take the same step as 1 process × batch 4."
import os, shutil, subprocess, sys, textwrap
from pathlib import Path
import pytest
import torch

SCRIPT = textwrap.dedent('''
    import sys, torch, torch.nn as nn
    from irstd_nb.training import TrainConfig, fit
    class Four(torch.utils.data.Dataset):                       # 4 fixed images and masks
        def __init__(self):
            g = torch.Generator().manual_seed(0)
            self.x, self.y = torch.randn(4, 1, 12, 12, generator=g), (torch.rand(4, 1, 12, 12, generator=g) < 0.3).float()
        def __len__(self): return 4
        def __getitem__(self, i): return self.x[i], self.y[i], str(i)
    def net():                                                  # no BatchNorm: per-process statistics would differ
        torch.manual_seed(0); return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 1, 3, padding=1))
    batch, out = int(sys.argv[1]), sys.argv[2]
    m = net()
    cfg = TrainConfig(loss="bce", optimizer="sgd", momentum=0.0, lr=0.5, scheduler="none", epochs=1, batch_size=batch,
                      crop=None, skip_single=False)
    h = fit(m, Four(), cfg, progress=False)
    import torch.distributed as td
    if not td.is_initialized() or td.get_rank() == 0:
        torch.save(dict(state=m.state_dict(), steps=h[0]["steps"], loss=h[0]["loss"]), out)
    if td.is_initialized(): td.destroy_process_group()
''')


def test_two_processes_equal_one(tmp_path):
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or shutil.which("torchrun")
    assert torchrun, "torchrun not found next to the interpreter"
    script = tmp_path / "step.py"; script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    one = subprocess.run([sys.executable, str(script), "4", str(tmp_path / "one.pt")], capture_output=True, text=True, env=env, timeout=300)
    assert one.returncode == 0, one.stderr[-2000:]
    two = subprocess.run([torchrun, "--standalone", "--nproc_per_node", "2", str(script), "2", str(tmp_path / "two.pt")],
                         capture_output=True, text=True, env=env, timeout=300)
    assert two.returncode == 0, two.stderr[-3000:]
    a, b = torch.load(tmp_path / "one.pt", weights_only=True), torch.load(tmp_path / "two.pt", weights_only=True)
    assert a["steps"] == b["steps"] == 1
    for k in a["state"]:
        torch.testing.assert_close(b["state"][k], a["state"][k], rtol=1e-5, atol=1e-6)
    torch.manual_seed(0); w0 = torch.nn.Conv2d(1, 4, 3, padding=1).weight
    assert (a["state"]["0.weight"] - w0).abs().max() > 1e-3
    assert abs(a["loss"] - b["loss"]) < 1e-5
