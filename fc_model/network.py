"""The two-layer network with a fixed second layer, its activations and Lemma 1.1's gradient."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fc_model.config import Activation


def second_layer(m: int, dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu") -> torch.Tensor:
    """``a_k = +1/m`` for the first ``m/2`` neurons (own class +1), ``-1/m`` for the rest."""
    a = torch.full((m,), 1.0 / m, dtype=dtype, device=device)
    a[m // 2 :] = -1.0 / m
    return a


def own_class(m: int, dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu") -> torch.Tensor:
    """``y_k = sign(a_k)``."""
    return torch.sign(second_layer(m, dtype, device))


def activate(act: Activation, pre: torch.Tensor) -> torch.Tensor:
    name = act.name
    if name == "relu":
        return torch.relu(pre)  # its backward is one threshold kernel; clamp_min's is ge + where, 5x slower
    if name == "identity":
        return pre
    if name == "leaky_relu":
        return F.leaky_relu(pre, act.slope)
    if name == "gelu":
        return F.gelu(pre)
    if name == "sigmoid":
        return torch.sigmoid(pre)
    if name == "tanh":
        return torch.tanh(pre)
    if name == "softplus":
        return F.softplus(pre)
    raise ValueError(f"unknown activation {name!r}")


def activation_derivative(act: Activation, pre: torch.Tensor) -> torch.Tensor:
    """``sigma'(pre)`` for the piecewise-linear activations (0 at the kink, as autograd)."""
    if act.name == "relu":
        return (pre > 0).to(pre.dtype)
    if act.name == "identity":
        return torch.ones_like(pre)
    if act.name == "leaky_relu":
        # full_like keeps the slope in pre's dtype (a Python scalar in where() would be float32)
        return torch.where(pre > 0, torch.ones_like(pre), torch.full_like(pre, act.slope))
    raise ValueError(f"no closed-form derivative for {act.name!r}; use autograd")


def forward(act: Activation, W: torch.Tensor, x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """``f(x)`` for weights ``W`` (``R x m x D``) and inputs ``x`` (``R x n x D``): ``R x n``."""
    return activate(act, torch.bmm(x, W.transpose(1, 2))) @ a


def hinge(margin: torch.Tensor) -> torch.Tensor:
    return (1 - margin).clamp_min(0)


def closed_form_gradient(act: Activation, W: torch.Tensor, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """Lemma 1.1: ``grad_{w_k} mean l = -mean_i a_k y_i 1{y_i f(x_i) < 1} sigma'(<w_k, x_i>) x_i``.

    Returns ``R x m x D``. Valid for relu, identity and leaky_relu with the hinge loss.
    """
    pre = torch.bmm(x, W.transpose(1, 2))
    f = activate(act, pre) @ a
    coef = -(y * (y * f < 1).to(x.dtype)) / x.shape[1]
    g = coef.unsqueeze(-1) * a * activation_derivative(act, pre)
    return torch.bmm(g.transpose(1, 2), x)


def autograd_gradient(act: Activation, W: torch.Tensor, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """The same gradient by autograd (any activation)."""
    with torch.enable_grad():
        Wg = W.detach().requires_grad_(True)
        loss = hinge(y * forward(act, Wg, x, a)).mean(-1).sum()
        (grad,) = torch.autograd.grad(loss, Wg)
    return grad


def hinge_gradient(act: Activation, W: torch.Tensor, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """The simulator's default: Lemma 1.1's closed form where it applies, else autograd."""
    if act.piecewise_linear:
        return closed_form_gradient(act, W, x, y, a)
    return autograd_gradient(act, W, x, y, a)
