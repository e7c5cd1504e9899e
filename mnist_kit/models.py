"""Every network of the course is one class, ``TinyNet``, built from a short spec (``NetSpec``); its summary,
receptive-field table, parameters per block and the one activation probe the tools share.

A network is two blocks at full resolution, a 1x1 "transition" conv that squeezes the channels before
MaxPool halves the image, more blocks down to a 6x6 map, global average pooling and a 1x1 "head" conv that
gives the 10 class scores. A block is Conv(3x3, no bias) -> ReLU -> BatchNorm -> Dropout, as in the
original tables; a ``Block`` may also ask for another kernel size, padding, or a depthwise-separable conv.
The blocks are named ``convblock1``, ``convblock2``, ``transition``, ``convblock3`` ... in the order the image
passes through them, the same in every network, so every tool (feature maps, model diffs) works on all.

No convolution has a bias: each would cost one parameter per output channel, and the budget is
under 8,000. That is a choice, not a free simplification. In a block a bias sits before the ReLU,
so it would move where the ReLU cuts off; the BatchNorm after the ReLU re-centres and rescales
each channel with its own learned shift, but it cannot move that threshold. The head is a plain
1x1 conv with no BatchNorm after it: a bias there would add a fixed offset to each class's score
(a prior for each digit), while log_softmax ignores only an offset shared by all ten classes.
MNIST's ten digits are about equally common, so such a prior would have little to learn.

``MODELS`` registers each network by name: Model_1 (8,246 parameters), Model_2 and Model_3 (7,934; the
same network, trained differently) and Model_4 (7,774) differ only in the widths of their last three
blocks; Model_5 and the frontier (``SLIM_WIDTHS``) narrow every width and may leave out the padded sixth
block. Taught in ``notebooks/01_model_1.ipynb``, ``notebooks/04_model_4.ipynb`` and ``notebooks/05_smaller.ipynb``.
"""

from __future__ import annotations

import contextlib
import copy
import io
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass(frozen=True)
class Block:
    """One block's convolution: ``channels`` out, a ``kernel_size`` square filter and ``padding``. A
    ``separable`` block filters each channel on its own (depthwise) and then mixes channels with a 1x1 conv."""

    channels: int
    kernel_size: int = 3
    padding: int = 0
    separable: bool = False


@dataclass(frozen=True)
class NetSpec:
    """A network of the course: the ``before_pool`` blocks at full resolution, a 1x1 transition to
    ``transition`` channels and a 2x2 MaxPool, the ``after_pool`` blocks, then GAP and a 1x1 head.

    Taught in ``notebooks/05_smaller.ipynb``: ``NetSpec.from_widths(...)`` is how the small networks are given.
    """

    before_pool: tuple[Block, ...]
    transition: int
    after_pool: tuple[Block, ...]

    @classmethod
    def from_widths(cls, widths: tuple[int, ...]) -> NetSpec:
        """``(c1, c2, ct, c3, c4, c5[, c6 ...])``: two 3x3 blocks, a transition to ``ct`` channels, then 3x3
        blocks; the first three after the pool are unpadded (12 -> 10 -> 8 -> 6), any further ones padded (6 -> 6).
        ``from_widths((10, 12, 10, 10, 14, 16, 14))`` is Model_4."""
        if len(widths) < 6 or min(widths) < 1:
            raise ValueError(f"widths needs at least 6 positive channel counts (c1, c2, ct, c3, c4, c5), got {widths}")
        c1, c2, ct, *after_pool = widths
        padded = tuple(Block(c, padding=0 if i < 3 else 1) for i, c in enumerate(after_pool))
        return cls(before_pool=(Block(c1), Block(c2)), transition=ct, after_pool=padded)

    @property
    def widths(self) -> tuple[int, ...]:
        """The output channels of every block and the transition, in order (``from_widths`` read back)."""
        return (*(b.channels for b in self.before_pool), self.transition, *(b.channels for b in self.after_pool))


def conv_block(c_in: int, block: Block, dropout: float) -> nn.Sequential:
    """Conv (no bias) -> ReLU -> BatchNorm -> Dropout; a separable conv is a per-channel filter, then a 1x1."""
    k, p, c_out = block.kernel_size, block.padding, block.channels
    if block.separable:
        convs = [nn.Conv2d(c_in, c_in, k, padding=p, groups=c_in, bias=False), nn.Conv2d(c_in, c_out, 1, bias=False)]
    else:
        convs = [nn.Conv2d(c_in, c_out, kernel_size=k, padding=p, bias=False)]
    return nn.Sequential(*convs, nn.ReLU(), nn.BatchNorm2d(c_out), nn.Dropout(dropout))


class TinyNet(nn.Module):
    """Every network of the course, built from a ``NetSpec``: ``TinyNet(MODELS["model_1"])`` is Model_1.

    The modules are created in the order the image passes through them (block 1, block 2, transition,
    block 3 ...), so a seed gives the same initial weights as the networks the committed records trained.
    Taught in ``notebooks/01_model_1.ipynb``.
    """

    def __init__(self, spec: NetSpec, dropout: float = 0.05, image_size: int = 28):
        super().__init__()
        self.spec, self.block_names = spec, []
        c_in, size = 1, image_size
        for block in spec.before_pool:
            c_in, size = self._add_block(block, c_in, size, dropout)  # 28 -> 26 -> 24
        self.transition = nn.Sequential(
            nn.Conv2d(c_in, spec.transition, kernel_size=1, bias=False),  # mix channels, keep the size
            nn.MaxPool2d(2, 2),  # 24 -> 12
        )
        self.block_names.append("transition")
        c_in, size = spec.transition, size // 2
        for block in spec.after_pool:
            c_in, size = self._add_block(block, c_in, size, dropout)  # 12 -> 10 -> 8 -> 6 (-> 6 padded)
        if size < 1:
            raise ValueError(f"{spec} shrinks the {image_size}x{image_size} image to nothing")
        self.gap = nn.AvgPool2d(kernel_size=size)  # the whole last map -> 1x1
        self.head = nn.Conv2d(c_in, 10, kernel_size=1, bias=False)

    def _add_block(self, block: Block, c_in: int, size: int, dropout: float) -> tuple[int, int]:
        name = f"convblock{sum(n != 'transition' for n in self.block_names) + 1}"
        self.add_module(name, conv_block(c_in, block, dropout))
        self.block_names.append(name)
        return block.channels, size + 2 * block.padding - block.kernel_size + 1

    def forward(self, x):
        for name in self.block_names:
            x = self.get_submodule(name)(x)
        x = self.head(self.gap(x))
        return F.log_softmax(x.view(-1, 10), dim=-1)

    def load_state_dict(self, state_dict, *args, **kwargs):
        """Also reads weights whose blocks after the max-pool are named ``blocks.0``, ``blocks.1`` ... (some of
        the recorded small networks, Model_5's sweep among them, name them so): they load as ``convblock3`` ..."""
        renamed = {}
        for key, value in state_dict.items():
            if key.startswith("blocks."):
                index, rest = key.removeprefix("blocks.").split(".", 1)
                key = f"convblock{int(index) + 3}.{rest}"
            renamed[key] = value
        return super().load_state_dict(renamed, *args, **kwargs)


# Every network by name. The four iterations of the original write-up differ only in blocks 4, 5 and 6.
_ITERATIONS: dict[str, NetSpec] = {
    "model_1": NetSpec.from_widths((10, 12, 10, 10, 16, 16, 14)),  # 8,246 parameters, just over the 8k budget
    "model_2": NetSpec.from_widths((10, 12, 10, 10, 16, 16, 12)),  # block 6 narrowed to 12: 7,934
    "model_3": NetSpec.from_widths((10, 12, 10, 10, 16, 16, 12)),  # Model_2's network, trained differently
    "model_4": NetSpec.from_widths((10, 12, 10, 10, 14, 16, 14)),  # block 4 to 14, block 6 back to 14: 7,774
}

# The networks below Model_4's budget (notebook 5), by their widths. The three ``slim_5k_*`` were the
# candidates for Model_5, compared on the validation split (records in results/validation/).
SLIM_WIDTHS: dict[str, tuple[int, ...]] = {
    "slim_6k": (10, 12, 10, 10, 14, 18),
    "slim_5k_a": (8, 12, 8, 10, 12, 16),  # Model_4 without its padded sixth block, narrowed
    "slim_5k_b": (8, 10, 8, 8, 10, 12, 10),  # all six blocks kept, every one narrowed
    "slim_5k_c": (8, 8, 8, 10, 14, 16),  # like a, with the full-resolution blocks narrower and the last ones wider
    "slim_4k": (8, 10, 8, 8, 12, 12),
    "slim_3k": (8, 8, 8, 8, 10, 10),
}
SLIM_WIDTHS = {**SLIM_WIDTHS, "model_5": SLIM_WIDTHS["slim_5k_a"]}  # chosen on validation: 4,836 parameters

# Model_5, attempt 2: candidate networks under 5,000 parameters that spend more on the first blocks (they see the
# most pixels), judged on the validation split beside recipe changes (recipes.SEARCH_MODEL_5).
_SEARCHED: dict[str, NetSpec] = {
    # parameters moved to the full-resolution blocks (10, 16), fewer after the transition: 4,870
    "m5_early": NetSpec.from_widths((10, 16, 8, 8, 12, 14)),
    # a 5x5 first convolution (28 -> 24), then Model_5's widths; the last map is 5x5: 4,964
    "m5_5x5": NetSpec(
        before_pool=(Block(8, kernel_size=5), Block(12)), transition=8, after_pool=(Block(10), Block(12), Block(16))
    ),
    # wider early blocks paid for by a depthwise-separable middle block: 4,914
    "m5_sep": NetSpec(
        before_pool=(Block(10), Block(14)),
        transition=8,
        after_pool=(Block(12), Block(16, separable=True), Block(14)),
    ),
}

# Every network by name, built once here (never changed after).
MODELS: dict[str, NetSpec] = {
    **_ITERATIONS,
    **{name: NetSpec.from_widths(widths) for name, widths in SLIM_WIDTHS.items()},
    **_SEARCHED,
}


def get_model(name: str | NetSpec, dropout: float = 0.05) -> TinyNet:
    """Build a registered network by its name (``model_1`` ... ``model_5``, ``slim_6k`` ...: see ``MODELS``), or the
    network a ``NetSpec`` describes (a study's own, ``studies.Study.networks``)."""
    if isinstance(name, NetSpec):
        return TinyNet(name, dropout=dropout)
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    return TinyNet(MODELS[name], dropout=dropout)


def channel_widths(model: TinyNet) -> tuple[int, ...]:
    """Output channels of every block and the transition, in order: (10, 12, 10, 10, 14, 16, 14) for Model_4."""
    return model.spec.widths


def probe(model: nn.Module, select, image=None, input_size=(1, 28, 28)) -> list[tuple[str, nn.Module, torch.Tensor]]:
    """(name, module, output) of every module that ``select(name, module)`` picks, in the order they ran, while a
    CPU copy of ``model`` in eval mode reads ``image`` (default: one blank image) without gradients.

    The one forward-hook probe behind the layer, budget and receptive-field tables and the feature maps; the
    caller's model, its mode, its hooks and the random stream are left as they were.
    """
    copied = copy.deepcopy(model).cpu().eval()
    caught, hooks = [], []
    for name, module in copied.named_modules():
        if select(name, module):
            hooks.append(
                module.register_forward_hook(lambda m, _inp, out, name=name: caught.append((name, m, out.detach())))
            )
    try:
        with torch.no_grad():
            copied(torch.zeros(1, *input_size) if image is None else image.cpu())
    finally:
        for hook in hooks:
            hook.remove()
    return caught


def _block_label(name: str) -> str:
    """``convblock3`` -> ``block 3``; ``transition`` and ``head`` keep their names."""
    return f"block {name.removeprefix('convblock')}" if name.startswith("convblock") else name


def conv_budget(model: nn.Module, input_size=(1, 28, 28)) -> list[dict]:
    """Where the parameters go: one row per block with a convolution (the head too), in order, its convolution
    and the BatchNorm that follows it.

    A 3x3 conv costs 9 * c_in * c_out, a 1x1 conv c_in * c_out, a BatchNorm 2 * c_out (scale and shift).
    Taught in ``notebooks/05_smaller.ipynb``.
    """
    convs = probe(model, lambda _name, m: isinstance(m, nn.Conv2d), input_size=input_size)
    outputs = {name: out for name, _module, out in convs}
    found, last = {}, None
    for name, module in model.named_modules():
        block = name.split(".")[0]
        if isinstance(module, nn.Conv2d):
            last = block
            k = _as_int(module.kernel_size)
            row = found.setdefault(block, {"kernels": [], "c_in": module.in_channels, "conv_params": 0, "bn_params": 0})
            row["kernels"].append(f"{k}×{k}" + (" per channel" if module.groups > 1 else ""))
            row["c_out"], row["output"] = module.out_channels, "×".join(map(str, outputs[name].shape[1:]))
            row["conv_params"] += module.weight.numel()
        elif isinstance(module, nn.BatchNorm2d) and last is not None:
            # a BatchNorm counts with its block's convolution, or, in a flat nn.Sequential, with the one before it
            found[block if block in found else last]["bn_params"] += sum(p.numel() for p in module.parameters())
    return [
        {
            "block": _block_label(block),
            "conv": f"{' + '.join(r['kernels'])}, {r['c_in']}→{r['c_out']}",
            "conv_params": r["conv_params"],
            "bn_params": r["bn_params"],
            "output": r["output"],
            "parameters": r["conv_params"] + r["bn_params"],
        }
        for block, r in found.items()
    ]


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

    copied = copy.deepcopy(model).cpu()
    out = io.StringIO()
    with torch.random.fork_rng(devices=[]), contextlib.redirect_stdout(out):
        torchsummary_summary(copied, input_size, device="cpu")
    text = out.getvalue()
    if show:
        print(text, end="")
    return text


def layer_shapes(model: nn.Module, input_size=(1, 28, 28)) -> list[tuple[str, tuple[int, ...], int]]:
    """(layer type, output shape without batch, parameter count) for each leaf layer, in run order."""
    leaves = probe(model, lambda _name, m: len(list(m.children())) == 0, input_size=input_size)
    return [(type(m).__name__, tuple(out.shape[1:]), sum(p.numel() for p in m.parameters())) for _n, m, out in leaves]


def receptive_field_table(model: nn.Module, input_size=(1, 28, 28)) -> list[dict]:
    """Receptive field of every conv and pooling layer, read off the modules as they run.

    r_out = r_in + (k - 1) * j_in and j_out = j_in * s, where j (the "jump") is the distance in
    input pixels between neighbouring outputs; ``start`` is where the centre of the first output
    pixel sits on the input: start_out = start_in + ((k - 1) / 2 - p) * j_in.
    Taught in ``notebooks/01_model_1.ipynb``.
    """
    layers = probe(model, lambda _name, m: isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)), None, input_size)
    rows, rf, jump, start = [], 1, 1, 0.0
    for name, module, out in layers:
        k, s, p = (_as_int(getattr(module, a)) for a in ("kernel_size", "stride", "padding"))
        start += ((k - 1) / 2 - p) * jump
        rf += (k - 1) * jump
        jump *= s
        rows.append(
            {
                "layer": name,
                "type": type(module).__name__,
                "kernel": k,
                "stride": s,
                "padding": p,
                "output_size": out.shape[-1],
                "receptive_field": rf,
                "jump": jump,
                "start": start,
            }
        )
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
