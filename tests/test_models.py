"""Every registered model builds, takes any input size, returns logits of the input's size, and survives a checkpoint round trip;
parameter counts match the specs."""
import pytest, torch
from irstd_nb.models import MODELS, create, example_input, count_params
from irstd_nb.training import save_checkpoint, load_checkpoint


@pytest.mark.parametrize("name", sorted(MODELS))
def test_any_size_logits(name):
    torch.manual_seed(0)
    m = create(name).eval()
    for H, W in [(24, 40), (17, 9)]:
        x = example_input(name, m, (H, W), batch=2)
        with torch.no_grad(): y = m(x)
        assert y.shape == (2, 1, H, W), (name, y.shape)
        assert torch.isfinite(y).all()
        assert (y < 0).any() or (y > 1).any() or y.std() > 0     # raw values, not a constant map


@pytest.mark.parametrize("name", sorted(MODELS))
def test_checkpoint_round_trip(name, tmp_path):
    torch.manual_seed(0)
    a = create(name)
    a.train(); a(example_input(name, a, (32, 32), batch=2))     # move BN running statistics away from their init
    save_checkpoint(tmp_path / "m.pt", model=a.state_dict(), epoch=3)
    st = load_checkpoint(tmp_path / "m.pt")                      # weights_only=True inside
    torch.manual_seed(1)
    b = create(name); b.load_state_dict(st["model"])
    a.eval(); b.eval()
    x = example_input(name, a, (32, 32))
    with torch.no_grad(): assert torch.equal(a(x), b(x))
    assert st["epoch"] == 3 and not any("kernels" in k for k in st["model"])


def test_param_counts_from_spec():
    # ../shared/research/sd2net.md §3.1-3.2: 268,206; STD2Net 268,516 + TD2M (9,601 with the authors' unused BN3d, 5,217 for A)
    assert count_params(create("sd2net"))["total"] == 268_206
    assert count_params(create("std2net", code_bn3d=True))["total"] == 268_516 + 9_601
    assert count_params(create("std2net", variant="A"))["total"] == 268_516 + 5_217


def test_irstd_diff_param_counts_from_spec():
    # ../shared/research/irstd_diff.md §9: 39.56 M = U-Net 29.73 M + CE 9.83 M (num_res_blocks=1: 30.01 M); LIW 145,800
    with torch.device("meta"):                                   # shapes only: no memory, no time
        p = count_params(create("irstd_diff"))
        p1 = count_params(create("irstd_diff", num_res_blocks=1))
        liw = count_params(create("irstd_diff").ce.liw)
    assert [round(p[k] / 1e6, 2) for k in ("total",)] + [round(p["by_part"][k] / 1e6, 2) for k in ("unet", "ce")] == [39.56, 29.73, 9.83]
    assert round(p1["total"] / 1e6, 2) == 30.01 and liw["total"] == 145_800
    # the authors' code builds 39,559,317; ours leaves out their untrained eval-time BatchNorm2d(1) (2 parameters)
    assert p["total"] == 39_559_317 - 2
