"Issue 9: the fixed-large variance of the ancestral sampler is guided-diffusion's table append(β̃[1], β[1:]) indexed by t."
import math
import numpy as np
import pytest
import torch
from irstd_nb.diffusion import Diffusion, linear_betas, cosine_betas


def gd_fixed_large(betas):
    "guided-diffusion's FIXED_LARGE table rebuilt from its definitions in numpy (0-based t; t = 0: no noise added)."
    betas = np.asarray(betas, np.float64)
    ac = np.cumprod(1.0 - betas)
    acp = np.append(1.0, ac[:-1])
    posterior_variance = betas * (1.0 - acp) / (1.0 - ac)
    return np.append(posterior_variance[1], betas[1:])


def _model(x, t): return 0.3 * x + 0.01 * t.view(-1, *([1] * (x.ndim - 1))).to(x.dtype)


@pytest.mark.parametrize("betas", [linear_betas(100), linear_betas(1000), cosine_betas(40)], ids=["linear100", "linear1000", "cosine40"])
def test_sampler_noise_follows_guided_diffusion_table(betas):
    D = Diffusion(betas)
    ref = gd_fixed_large(betas.numpy())
    g = torch.Generator().manual_seed(0)
    xt = torch.randn(3, 4, dtype=torch.float64, generator=g)
    z = torch.randn(3, 4, dtype=torch.float64, generator=g)
    for t in range(D.T):
        a, _ = D.p_sample(_model, xt, t, variance="large", clip=False, noise=z)
        b, _ = D.p_sample(_model, xt, t, variance="large", clip=False, noise=torch.zeros_like(z))
        std = 0.0 if t == 0 else math.sqrt(ref[t])       # guided-diffusion's nonzero_mask: no noise at t = 0
        np.testing.assert_allclose((a - b).numpy(), std * z.numpy(), rtol=1e-10, atol=1e-14, err_msg=f"t={t}")


def test_model_variance_table():
    for betas in (linear_betas(100), cosine_betas(40)):
        D = Diffusion(betas)
        ref = gd_fixed_large(betas.numpy())
        np.testing.assert_allclose(D.model_variance("large").numpy(), ref, rtol=1e-13, atol=0)
        assert torch.equal(D.model_variance("large")[1:], D.betas[1:])      # every noisy step uses β_t
        np.testing.assert_allclose(D.model_variance("small").numpy(), (betas * 0 + D.post_var).numpy())
    with pytest.raises(ValueError, match="variance must be"):
        Diffusion.linear(100).model_variance("medium")
