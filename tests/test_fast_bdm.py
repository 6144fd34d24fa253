"""The fast BDM (no materialised bases, `bdm_impl="fast"`) against independent references: the reference
implementation (materialised bases), a naive per-image loop in float64, and finite differences (gradcheck).
Float32 agreement is asked to a relative error of 1e-5 on outputs and gradients."""
import copy, pytest, torch
import torch.nn.functional as F
from irstd_nb.difference import (OFFSETS, SD2M, SD3M, TD2M, BasisFilter, BasisStats, FirstMax, LinearBases, bdm, haar_bases,
                                 linear_bdm, local_contrast, shift_bases, temporal_bases)
from irstd_nb.sd2net import SD2Net
from irstd_nb.std2net import STD2Net


def rel(a, b): return ((a - b).norm() / b.norm()).item()


def run(model, x):
    "Output, input gradient and all parameter gradients (one vector) of a fixed linear functional of the output."
    x = x.clone().requires_grad_()
    y = model(x)
    y.backward(torch.linspace(-1, 1, y.numel()).view_as(y))
    return y.detach(), x.grad, torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])


def pair(make):
    torch.manual_seed(0)
    ref, fast = make("reference"), make("fast")
    assert list(fast.state_dict()) == list(ref.state_dict())
    fast.load_state_dict(ref.state_dict())
    return ref, fast


def naive_sd2m_bdm(z, T, dilations=(1, 3)):
    "Y = Σ_k ⟨T, b_k⟩/‖b_k‖² b_k with every basis written out by loops over images, channels and offsets (float64)."
    z, T = z.double(), T.double()
    B, G, H, W = z.shape
    r = max(dilations)
    zp = F.pad(z, (r, r, r, r))
    Y = torch.zeros_like(z)
    for b in range(B):
        for g in range(G):
            bases = [local_contrast(z[b:b + 1, g:g + 1])[0, 0]]
            for d in dilations:
                for dy, dx in OFFSETS:
                    bases.append(z[b, g] - zp[b, g, r + d * dy: r + d * dy + H, r + d * dx: r + d * dx + W])
            for P in bases:
                Y[b, g] += (T[b, g] * P).sum() / (P * P).sum().clamp_min(1e-24) * P
    return Y


@pytest.mark.parametrize("shape", [(2, 3, 11, 7), (1, 2, 9, 9), (1, 1, 4, 13)])
def test_sd2m_bdm_against_naive_loop(shape):
    torch.manual_seed(0)
    z, T = torch.randn(shape), torch.randn(shape)
    bases, r = shift_bases(*shape[-2:])
    y = linear_bdm(T, F.pad(z, (r, r, r, r)), bases, extra=local_contrast(z))
    assert rel(y.double(), naive_sd2m_bdm(z, T)) < 1e-5


@pytest.mark.parametrize("B,H,W", [(1, 16, 16), (2, 12, 20), (1, 9, 5), (3, 7, 1)])
def test_modules_fast_equals_reference(B, H, W):
    cases = [(lambda i: SD2M(16, 2, bdm_impl=i), torch.randn(B, 16, H, W)),
             (lambda i: SD2M(8, 4, (1, 2, 3), bdm_impl=i), torch.randn(B, 8, H, W)),
             (lambda i: TD2M(8, 5, "B", bdm_impl=i), torch.randn(B, 8, 5, H, W)),
             (lambda i: TD2M(8, 5, "A", bdm_impl=i), torch.randn(B, 8, 5, H, W))]
    if min(H, W) >= 2: cases.append((lambda i: SD3M(16, bdm_impl=i), torch.randn(B, 16, H, W)))
    for make, x in cases:
        ref, fast = pair(make)
        for a, b in zip(run(fast, x), run(ref, x)): assert rel(a, b) <= 1e-5


@pytest.mark.parametrize("name,shape", [("sd2net", (1, 1, 37, 50)), ("sd2net", (2, 1, 64, 64)), ("std2net", (1, 1, 5, 24, 19))])
def test_networks_fast_equals_reference(name, shape):
    """Whole networks: in float64 the two implementations agree to 1e-9 (the same function); in float32 the fast
    one is at least as accurate as the reference, both measured against the float64 reference. (A deep network in
    training mode amplifies float32 rounding differently for different inputs, so fast-vs-reference float32
    agreement of a whole network is not a fixed number; per module it is tested to 1e-5 above.)"""
    cls = SD2Net if name == "sd2net" else STD2Net
    ref, fast = pair(lambda i: cls(bdm_impl=i))
    x = torch.randn(shape)
    ref64, fast64 = copy.deepcopy(ref).double(), copy.deepcopy(fast).double()
    truth = run(ref64, x.double())
    for a, b in zip(run(fast64, x.double()), truth): assert rel(a, b) <= 1e-9
    for a, b, t in zip(run(fast, x), run(ref, x), truth):
        assert rel(a.double(), t) <= max(1e-5, 2 * rel(b.double(), t)), (rel(a.double(), t), rel(b.double(), t))
    assert sum(p.numel() for p in fast.parameters()) == sum(p.numel() for p in ref.parameters())


def test_param_counts_and_default():
    assert SD2Net().cfg.bdm_impl == "fast" and STD2Net().td2m.bdm_impl == "fast"
    assert sum(p.numel() for p in SD2Net().parameters()) == 268_206
    assert sum(p.numel() for p in SD2Net(bdm_impl="reference").parameters()) == 268_206
    with pytest.raises(ValueError, match="bdm_impl"): SD2Net(bdm_impl="turbo")


def test_gradcheck_float64():
    torch.manual_seed(0)
    for m, x in [(SD2M(4, 2), torch.randn(2, 4, 5, 6)), (SD3M(3), torch.randn(1, 3, 6, 5)),
                 (TD2M(3, 5, "B"), torch.randn(2, 3, 5, 4, 3)), (SD2M(4, 2, mode="mean"), torch.randn(2, 4, 4, 4))]:
        m = m.double()
        assert torch.autograd.gradcheck(m, (x.double().requires_grad_(),), eps=1e-6, atol=1e-5)
    for bases, src, out in [(shift_bases(5, 4, (1, 3))[0], (2, 2, 11, 10), (2, 2, 5, 4)), (haar_bases(), (1, 2, 4, 3, 2), (1, 2, 3, 2)),
                            (temporal_bases(4, "B"), (1, 2, 4, 3, 3), (1, 2, 3, 3))]:
        s = torch.randn(src, dtype=torch.float64, requires_grad=True)
        T = torch.randn(out, dtype=torch.float64, requires_grad=True)
        c = torch.randn(*out[:2], len(bases), dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(lambda s, T: BasisStats.apply(s, T, bases), (s, T))
        assert torch.autograd.gradcheck(lambda s, c: BasisFilter.apply(s, c, bases), (s, c))
        assert torch.autograd.gradcheck(lambda T, s: linear_bdm(T, s, bases), (T, s))
    X = torch.randn(1, 2, 4, 3, 2, dtype=torch.float64, requires_grad=True)    # FirstMax (random values: no ties; ties: notebook 11)
    assert torch.autograd.gradcheck(FirstMax.apply, (X,))


def test_linear_bases_against_generic_bdm():
    "Random tap weights: linear_bdm must equal bdm on the explicitly built bases (float64)."
    torch.manual_seed(1)
    views = [lambda s, i=i: s[..., i:i + 6, :] for i in range(3)]
    W = torch.randn(4, 3).tolist()
    lb = LinearBases(W, views)
    s, T = torch.randn(2, 3, 8, 5, dtype=torch.float64), torch.randn(2, 3, 6, 5, dtype=torch.float64)
    P = torch.stack([sum(w * v(s) for w, v in zip(row, views)) for row in W], 2)
    assert torch.allclose(linear_bdm(T, s, lb), bdm(T.flatten(2), P.flatten(3)).view_as(T), atol=1e-12)


def test_zero_basis_no_nan():
    "A constant map has all-zero interior differences; the border and the clamp keep everything finite."
    m = SD2M(4, 2).eval()
    x = torch.zeros(1, 4, 8, 8, requires_grad=True)
    m(x).sum().backward()
    assert torch.isfinite(x.grad).all()


def test_channels_last_bf16_runs_and_is_close():
    torch.manual_seed(0)
    ref, fast = pair(lambda i: SD2Net(bdm_impl=i))
    x = torch.randn(2, 1, 32, 48)
    y0 = ref(x)
    fast = fast.to(memory_format=torch.channels_last)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y1 = fast(x.contiguous(memory_format=torch.channels_last))
    y1.float().sum().backward()
    assert rel(y1.float(), y0) < 0.15 and all(torch.isfinite(p.grad).all() for p in fast.parameters())
    assert rel(fast(x), y0) < 1e-4                                  # float32, channels_last: only the conv algorithms differ


def test_meta_device_and_mac_count():
    from irstd_nb.models import model_info
    info = model_info("sd2net", (64, 64))
    assert info["params"]["total"] == 268_206 and info["macs_per_image"] > 0
