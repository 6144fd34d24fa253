"""IRSTD-Diff's samplers given an oracle noise model: ε̂ computed from the true mask must lead every sampler
back to that mask exactly, through the model's own sampling path (mask range, padding, clipping, threshold)."""
import pytest, torch
from irstd_nb.irstd_diff import IRSTDDiff, IRSTDDiffConfig
from irstd_nb.diffusion import Diffusion, ideal_eps_model


def _mask(H=32, W=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    m = torch.zeros(2, 1, H, W)
    for b in range(2):
        for _ in range(3):
            y, x = torch.randint(0, H - 4, (1,), generator=g).item(), torch.randint(0, W - 4, (1,), generator=g).item()
            s = torch.randint(1, 4, (1,), generator=g).item()
            m[b, 0, y:y + s, x:x + s] = 1
    return m


def _oracle(model, mask):
    "ε̂(x_t, t) = (x_t − √ᾱ_t x0) / √(1 − ᾱ_t) with x0 the true mask in the model's range: the ideal model of one datum."
    x0 = model.to_x0(mask)
    ab = model.diffusion.alpha_bar
    def eps(x_t, t, cond):
        a = ab[t].view(-1, 1, 1, 1).to(x_t.dtype)
        return (x_t - a.sqrt() * x0) / (1 - a).sqrt()
    return eps


@pytest.mark.parametrize("mask_range", ["pm1", "01"])
@pytest.mark.parametrize("sampler,steps", [("ddpm", None), ("ddim", 10), ("ddim", 100), ("ddim", 1)])
def test_every_sampler_recovers_the_mask_from_the_true_noise(mask_range, sampler, steps):
    model = IRSTDDiff(IRSTDDiffConfig.tiny(mask_range=mask_range, sampler=sampler, steps=steps or 10)).eval()
    mask = _mask()
    model.eps = _oracle(model, mask)                       # the instance's ε̂ replaced by the oracle
    x = torch.rand(2, 1, 32, 64)
    s, _ = model.sample(x, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(s, mask, atol=1e-4), (s - mask).abs().max()
    out = model(x)                                         # forward: logit of x̂0, threshold 0.5 ↔ logit 0
    assert torch.equal(out > 0, mask > 0.5)


def test_ddim_with_noise_and_ddpm_small_variance_also_recover_it():
    d = Diffusion.linear(100)
    x0 = 2 * _mask() - 1
    oracle = ideal_eps_model(d, x0[:1])                    # one datum: the ideal model is the oracle
    g = torch.Generator().manual_seed(2)
    for out in (d.sample(oracle, x0[:1].shape, variance="small", generator=g),
                d.sample(oracle, x0[:1].shape, variance="large", generator=g),
                d.ddim_sample(oracle, x0[:1].shape, steps=10, eta=1.0, generator=g)):
        assert torch.allclose(out, x0[:1], atol=1e-4)


def test_a_wrong_oracle_is_caught():
    "The check can fail: the oracle of another mask leads to that other mask, not to this one."
    model = IRSTDDiff(IRSTDDiffConfig.tiny()).eval()
    mask, other = _mask(seed=0), _mask(seed=5)
    model.eps = _oracle(model, other)
    s, _ = model.sample(torch.rand(2, 1, 32, 64))
    assert not torch.allclose(s, mask, atol=1e-2) and torch.allclose(s, other, atol=1e-4)
