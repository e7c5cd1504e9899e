"""The four CNNs of the original assignment, their summaries and receptive fields.

Every block is Conv(3x3, no bias) -> ReLU -> BatchNorm -> Dropout, as in the original
tables. After two blocks a 1x1 "transition" conv squeezes 12 channels to 10 before MaxPool
halves the image; four more blocks, global average pooling over the 6x6 map and a 1x1
"head" conv give the 10 class scores: six 3x3 convolutions and two 1x1 ones in all.

No convolution has a bias: each would cost one parameter per output channel, and the budget is
under 8,000. That is a choice, not a free simplification. In a block a bias sits before the ReLU,
so it would move where the ReLU cuts off; the BatchNorm after the ReLU re-centres and rescales
each channel with its own learned shift, but it cannot move that threshold. The head is a plain
1x1 conv with no BatchNorm after it: a bias there would add a fixed offset to each class's score
(a prior for each digit), while log_softmax ignores only an offset shared by all ten classes.
MNIST's ten digits are about equally common, so such a prior would have little to learn.

Model_1 (8,246 parameters), Model_2 and Model_3 (7,934; the same network, trained
differently) and Model_4 (7,774) differ only in the widths of their last three blocks.
Taught in ``notebooks/01_model_1.ipynb`` and, for Model_4, ``notebooks/04_model_4.ipynb``.
"""

from __future__ import annotations

import contextlib
import copy
import io

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_block(c_in: int, c_out: int, dropout: float, padding: int = 0) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel_size=3, padding=padding, bias=False),
        nn.ReLU(),
        nn.BatchNorm2d(c_out),
        nn.Dropout(dropout),
    )


class TinyNet(nn.Module):
    """The shared skeleton; ``widths`` are the output channels of blocks 4, 5 and 6."""

    widths: tuple[int, int, int] = (16, 16, 14)

    def __init__(self, dropout: float = 0.05):
        super().__init__()
        c4, c5, c6 = self.widths
        self.convblock1 = conv_block(1, 10, dropout)  # 28 -> 26
        self.convblock2 = conv_block(10, 12, dropout)  # 26 -> 24
        self.transition = nn.Sequential(
            nn.Conv2d(12, 10, kernel_size=1, bias=False),  # mix channels, keep 24x24
            nn.MaxPool2d(2, 2),  # 24 -> 12
        )
        self.convblock3 = conv_block(10, 10, dropout)  # 12 -> 10
        self.convblock4 = conv_block(10, c4, dropout)  # 10 -> 8
        self.convblock5 = conv_block(c4, c5, dropout)  # 8 -> 6
        self.convblock6 = conv_block(c5, c6, dropout, padding=1)  # 6 -> 6
        self.gap = nn.AvgPool2d(kernel_size=6)  # 6 -> 1
        self.head = nn.Conv2d(c6, 10, kernel_size=1, bias=False)

    def forward(self, x):
        x = self.convblock1(x)
        x = self.convblock2(x)
        x = self.transition(x)
        x = self.convblock3(x)
        x = self.convblock4(x)
        x = self.convblock5(x)
        x = self.convblock6(x)
        x = self.head(self.gap(x))
        return F.log_softmax(x.view(-1, 10), dim=-1)


class Model1(TinyNet):
    """Iteration 1: 8,246 parameters, just over the 8k budget."""

    widths = (16, 16, 14)


class Model2(TinyNet):
    """Iterations 2 and 3: the last block narrowed to 12 channels, 7,934 parameters."""

    widths = (16, 16, 12)


class Model3(Model2):
    """Same network as Model2; iteration 3 changes augmentation and schedule, not layers."""


class Model4(TinyNet):
    """Iteration 4: block 4 narrowed to 14 and block 6 widened back to 14, 7,774 parameters."""

    widths = (14, 16, 14)


class SlimNet(nn.Module):
    """Model_4's skeleton with every width a parameter, for networks under Model_4's budget.

    ``widths = (c1, c2, ct, c3, c4, c5[, c6 ...])``: two blocks at full resolution, a 1x1 transition to
    ``ct`` channels and MaxPool, then 3x3 blocks; the first three after the pool are unpadded (12 -> 6),
    any further ones are padded and keep the 6x6 map. GAP and a 1x1 head as in ``TinyNet``.
    ``SlimNet((10, 12, 10, 10, 14, 16, 14))`` is Model_4's network, 7,774 parameters.
    Taught in ``notebooks/05_smaller.ipynb``.
    """

    def __init__(self, widths: tuple[int, ...], dropout: float = 0.05):
        super().__init__()
        if len(widths) < 6 or min(widths) < 1:
            raise ValueError(f"widths needs at least 6 positive channel counts (c1, c2, ct, c3, c4, c5), got {widths}")
        c1, c2, ct, *after_pool = widths
        self.widths = tuple(widths)
        self.convblock1 = conv_block(1, c1, dropout)  # 28 -> 26
        self.convblock2 = conv_block(c1, c2, dropout)  # 26 -> 24
        self.transition = nn.Sequential(nn.Conv2d(c2, ct, kernel_size=1, bias=False), nn.MaxPool2d(2, 2))  # -> 12
        blocks, c_in = [], ct
        for i, c_out in enumerate(after_pool):
            blocks.append(conv_block(c_in, c_out, dropout, padding=0 if i < 3 else 1))  # 12 -> 10 -> 8 -> 6 -> 6 ...
            c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.gap = nn.AvgPool2d(kernel_size=6)  # 6 -> 1
        self.head = nn.Conv2d(c_in, 10, kernel_size=1, bias=False)

    def forward(self, x):
        x = self.transition(self.convblock2(self.convblock1(x)))
        x = self.head(self.gap(self.blocks(x)))
        return F.log_softmax(x.view(-1, 10), dim=-1)


MODELS = {"model_1": Model1, "model_2": Model2, "model_3": Model3, "model_4": Model4}

# The networks below Model_4's budget (notebook 5): SlimNet widths by name. The three ``slim_5k_*`` were the
# candidates for Model_5, compared on the validation split (records in results/validation/).
SLIM_WIDTHS: dict[str, tuple[int, ...]] = {
    "slim_6k": (10, 12, 10, 10, 14, 18),
    "slim_5k_a": (8, 12, 8, 10, 12, 16),  # Model_4 without its padded sixth block, narrowed
    "slim_5k_b": (8, 10, 8, 8, 10, 12, 10),  # all six blocks kept, every one narrowed
    "slim_5k_c": (8, 8, 8, 10, 14, 16),  # like a, with the full-resolution blocks narrower and the last ones wider
    "slim_4k": (8, 10, 8, 8, 12, 12),
    "slim_3k": (8, 8, 8, 8, 10, 10),
}
SLIM_WIDTHS["model_5"] = SLIM_WIDTHS["slim_5k_a"]  # chosen on validation: 4,836 parameters


def get_model(name: str, dropout: float = 0.05) -> nn.Module:
    """Build a model by its name (``model_1`` ... ``model_4``, or a ``SlimNet`` of ``SLIM_WIDTHS``: ``model_5`` ...)."""
    if name in SLIM_WIDTHS:
        return SlimNet(SLIM_WIDTHS[name], dropout=dropout)
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join([*MODELS, *SLIM_WIDTHS])}")
    return MODELS[name](dropout=dropout)


def channel_widths(model: nn.Module) -> tuple[int, ...]:
    """Output channels of every convolution but the head, in order: (10, 12, 10, 10, 14, 16, 14) for Model_4."""
    return tuple(m.out_channels for m in model.modules() if isinstance(m, nn.Conv2d))[:-1]


def conv_budget(model: nn.Module, input_size=(1, 28, 28)) -> list[dict]:
    """Where the parameters go: one row per convolution, in order, with the BatchNorm that follows it.

    A 3x3 conv costs 9 * c_in * c_out, a 1x1 conv c_in * c_out, a BatchNorm 2 * c_out (scale and shift).
    Taught in ``notebooks/05_smaller.ipynb``.
    """
    probe = copy.deepcopy(model).cpu().eval()
    rows, hooks = [], []
    for module in probe.modules():
        if isinstance(module, nn.Conv2d):
            k = _as_int(module.kernel_size)
            rows.append(
                {
                    "block": "",
                    "conv": f"{k}×{k}, {module.in_channels}→{module.out_channels}",
                    "conv_params": module.weight.numel(),
                    "bn_params": 0,
                    "output": "",
                }
            )
            row = rows[-1]
            hooks.append(
                module.register_forward_hook(
                    lambda m, i, out, row=row: row.update(output="×".join(map(str, out.shape[1:])))
                )
            )
        elif isinstance(module, nn.BatchNorm2d) and rows:
            rows[-1]["bn_params"] += sum(p.numel() for p in module.parameters())
    with torch.no_grad():
        probe(torch.zeros(1, *input_size))
    for hook in hooks:
        hook.remove()
    blocks = 0
    for i, row in enumerate(rows):
        if i == len(rows) - 1:
            row["block"] = "head"
        elif row["conv"].startswith("1×1"):
            row["block"] = "transition"
        else:
            blocks += 1
            row["block"] = f"block {blocks}"
        row["parameters"] = row["conv_params"] + row["bn_params"]
    return rows


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def summary(model: nn.Module, input_size=(1, 28, 28), show: bool = True) -> str:
    """torchsummary's layer table, safe to call at any time; returns the text.

    torchsummary builds its probe input on CUDA whenever CUDA exists, draws it from the global
    RNG and runs the model in training mode (which moves BatchNorm's running statistics). So we
    probe a CPU copy with a forked RNG: the caller's model and random stream are left as they were.
    Taught in every notebook's model section.
    """
    from torchsummary import summary as torchsummary_summary

    probe = copy.deepcopy(model).cpu()
    out = io.StringIO()
    with torch.random.fork_rng(devices=[]), contextlib.redirect_stdout(out):
        torchsummary_summary(probe, input_size, device="cpu")
    text = out.getvalue()
    if show:
        print(text, end="")
    return text


def layer_shapes(model: nn.Module, input_size=(1, 28, 28)) -> list[tuple[str, tuple[int, ...], int]]:
    """(layer type, output shape without batch, parameter count) for each leaf layer, in run order."""
    rows, hooks = [], []
    probe = copy.deepcopy(model).cpu().eval()
    for module in probe.modules():
        if len(list(module.children())) == 0:
            hooks.append(
                module.register_forward_hook(
                    lambda m, _inp, out: rows.append(
                        (type(m).__name__, tuple(out.shape[1:]), sum(p.numel() for p in m.parameters()))
                    )
                )
            )
    with torch.no_grad():
        probe(torch.zeros(1, *input_size))
    for hook in hooks:
        hook.remove()
    return rows


def receptive_field_table(model: nn.Module, input_size=(1, 28, 28)) -> list[dict]:
    """Receptive field of every conv and pooling layer, read off the modules as they run.

    r_out = r_in + (k - 1) * j_in and j_out = j_in * s, where j (the "jump") is the distance in
    input pixels between neighbouring outputs; ``start`` is where the centre of the first output
    pixel sits on the input: start_out = start_in + ((k - 1) / 2 - p) * j_in.
    Taught in ``notebooks/01_model_1.ipynb``.
    """
    rows, hooks = [], []
    state = {"rf": 1, "jump": 1, "start": 0.0}
    probe = copy.deepcopy(model).cpu().eval()

    def record(module, _inp, out, name):
        k, s, p = (_as_int(getattr(module, a)) for a in ("kernel_size", "stride", "padding"))
        state["start"] += ((k - 1) / 2 - p) * state["jump"]
        state["rf"] += (k - 1) * state["jump"]
        state["jump"] *= s
        rows.append(
            {
                "layer": name,
                "type": type(module).__name__,
                "kernel": k,
                "stride": s,
                "padding": p,
                "output_size": out.shape[-1],
                "receptive_field": state["rf"],
                "jump": state["jump"],
                "start": state["start"],
            }
        )

    for name, module in probe.named_modules():
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            hooks.append(module.register_forward_hook(lambda m, i, o, name=name: record(m, i, o, name)))
    with torch.no_grad():
        probe(torch.zeros(1, *input_size))
    for hook in hooks:
        hook.remove()
    return rows


def _as_int(value) -> int:
    return value[0] if isinstance(value, tuple) else int(value)


def format_table(rows: list[dict]) -> str:
    """Plain-text table of a list of dicts with the same keys (for RF tables and results)."""
    if not rows:
        return ""
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in keys}
    line = "  ".join(k.rjust(widths[k]) for k in keys)
    body = ["  ".join(str(r[k]).rjust(widths[k]) for k in keys) for r in rows]
    return "\n".join([line, "-" * len(line), *body])
