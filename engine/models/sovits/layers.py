"""Small building blocks shared by the SoVITS modules: masks, weight-normalised convolutions
that keep upstream's on-disk parameter names, channel LayerNorm and the WaveNet stack."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

LRELU_SLOPE = 0.1


def sequence_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """(B,) lengths -> (B, max_len) bool, True inside each sequence."""
    if max_len is None:
        max_len = int(lengths.max())
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


def same_padding(kernel: int, dilation: int = 1) -> int:
    return (kernel * dilation - dilation) // 2


class _WeightNormMixin:
    """Legacy weight-norm parametrisation (``weight = g * v / ||v||``, norm over every dim but
    0) stored as ``weight_g``/``weight_v`` after ``bias``, the order and names upstream files
    use. ``fold()`` caches the effective weight for inference."""

    weight_g: nn.Parameter
    weight_v: nn.Parameter

    def _init_weight_norm(self) -> None:
        w = self.weight.detach()
        del self._parameters["weight"]
        dims = tuple(range(1, w.dim()))
        self.weight_g = nn.Parameter(torch.linalg.vector_norm(w, dim=dims, keepdim=True))
        self.weight_v = nn.Parameter(w.clone())
        self._folded: torch.Tensor | None = None
        self._folded_bias: torch.Tensor | None = None

    def effective_weight(self) -> torch.Tensor:
        if self._folded is not None and not self.training:
            return self._folded
        v = self.weight_v
        norm = torch.linalg.vector_norm(v, dim=tuple(range(1, v.dim())), keepdim=True)
        return v * (self.weight_g / norm)

    def effective_bias(self) -> torch.Tensor | None:
        if self._folded is not None and not self.training:
            return self._folded_bias
        return self.bias

    def fold(self, dtype: torch.dtype | None = None) -> None:
        """Cache weight (and bias) for inference, optionally cast (the parameters stay fp32)."""
        with torch.no_grad():
            self._folded = None
            w = self.effective_weight().detach()
            self._folded = w if dtype is None else w.to(dtype)
            b = self.bias
            self._folded_bias = None if b is None else (b.detach() if dtype is None else b.detach().to(dtype))

    def unfold(self) -> None:
        self._folded = None

    def train(self, mode: bool = True):  # type: ignore[override]
        if mode:
            self._folded = None
        return super().train(mode)  # type: ignore[misc]


class WNConv1d(_WeightNormMixin, nn.Conv1d):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_weight_norm()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv1d(x, self.effective_weight(), self.effective_bias(), self.stride, self.padding,
                        self.dilation, self.groups)


class WNConvTranspose1d(_WeightNormMixin, nn.ConvTranspose1d):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_weight_norm()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv_transpose1d(x, self.effective_weight(), self.effective_bias(), self.stride,
                                  self.padding, self.output_padding, self.groups, self.dilation)


class WNConv2d(_WeightNormMixin, nn.Conv2d):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_weight_norm()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.effective_weight(), self.effective_bias(), self.stride, self.padding,
                        self.dilation, self.groups)


def fold_weight_norms(module: nn.Module) -> None:
    """Cache every weight-normed conv's effective weight (inference speed-up)."""
    for m in module.modules():
        if isinstance(m, _WeightNormMixin):
            m.fold()


class CastConv1d(nn.Conv1d):
    """A plain Conv1d that can run from cast copies of its parameters at inference."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._cast: tuple[torch.Tensor, torch.Tensor | None] | None = None

    def cast(self, dtype: torch.dtype | None) -> None:
        b = self.bias
        self._cast = None if dtype is None else (
            self.weight.detach().to(dtype), None if b is None else b.detach().to(dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._cast is not None and not self.training:
            return F.conv1d(x, self._cast[0], self._cast[1], self.stride, self.padding,
                            self.dilation, self.groups)
        return super().forward(x)

    def train(self, mode: bool = True):  # type: ignore[override]
        if mode:
            self._cast = None
        return super().train(mode)


def cast_for_inference(module: nn.Module, dtype: torch.dtype | None) -> None:
    """Run ``module``'s convolutions from ``dtype`` copies (None: back to fp32 parameters)."""
    for m in module.modules():
        if isinstance(m, _WeightNormMixin):
            m.fold(dtype)
        elif isinstance(m, CastConv1d):
            m.cast(dtype)


class ChannelLayerNorm(nn.Module):
    """LayerNorm over the channel axis of (B, C, T), parameters named gamma/beta."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.channels = channels
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.layer_norm(x.transpose(1, -1), (self.channels,), self.gamma, self.beta, self.eps)
        return x.transpose(1, -1)


class WaveNet(nn.Module):
    """Non-causal WaveNet stack with gated tanh*sigmoid units and optional global
    conditioning (one 1x1 conv producing every layer's conditioning at once)."""

    def __init__(self, hidden: int, kernel_size: int, dilation_rate: int, n_layers: int,
                 gin_channels: int = 0, p_dropout: float = 0.0) -> None:
        super().__init__()
        self.hidden = hidden
        self.n_layers = n_layers
        self.in_layers = nn.ModuleList()
        self.res_skip_layers = nn.ModuleList()
        self.drop = nn.Dropout(p_dropout)
        for i in range(n_layers):
            d = dilation_rate ** i
            self.in_layers.append(WNConv1d(hidden, 2 * hidden, kernel_size, dilation=d,
                                           padding=same_padding(kernel_size, d)))
            out = 2 * hidden if i < n_layers - 1 else hidden
            self.res_skip_layers.append(WNConv1d(hidden, out, 1))
        self.cond_layer = WNConv1d(gin_channels, 2 * hidden * n_layers, 1) if gin_channels else None

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor,
                g: torch.Tensor | None = None) -> torch.Tensor:
        out = torch.zeros_like(x)
        cond = self.cond_layer(g) if (g is not None and self.cond_layer is not None) else None
        h = self.hidden
        for i in range(self.n_layers):
            a = self.in_layers[i](x)
            if cond is not None:
                a = a + cond[:, 2 * h * i: 2 * h * (i + 1)]
            acts = self.drop(torch.tanh(a[:, :h]) * torch.sigmoid(a[:, h:]))
            rs = self.res_skip_layers[i](acts)
            if i < self.n_layers - 1:
                x = (x + rs[:, :h]) * x_mask
                out = out + rs[:, h:]
            else:
                out = out + rs
        return out * x_mask
