"""``network``: a student's own ``nn.Module`` compared with a course network block by block.

Both networks read the same random image; every leaf module is caught as it runs, and the run is cut into blocks
at each convolution and at global average pooling (Model_1: block 1, block 2, transition, blocks 3 to 6, GAP,
head). Block by block the layers, the convolution's settings, the output shape, the parameters and the receptive
field are compared, and the first difference gets a hint that says what to change and why; the course's layers
are shown only with ``show_answer=True``. A ReLU written as ``F.relu`` in ``forward`` is found too (what follows
the convolution never sees a negative number); a functional dropout is not.
Taught in ``notebooks/01_model_1.ipynb``'s build-it cells.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field

import torch
import torch.nn as nn

from .models import count_parameters, format_table, get_model
from .verdict import Verdict, failed, passed, sentence

KINDS = {
    nn.Conv2d: "Conv2d",
    nn.ReLU: "ReLU",
    nn.BatchNorm2d: "BatchNorm2d",
    nn.Dropout: "Dropout",
    nn.Dropout2d: "Dropout",
    nn.MaxPool2d: "MaxPool2d",
    nn.AvgPool2d: "GAP",
    nn.AdaptiveAvgPool2d: "GAP",
}
SKIPPED = (nn.Identity, nn.Flatten)  # they change nothing a block is compared on
WHY_MISSING = {
    "ReLU": "add nn.ReLU() right after the convolution: without a non-linearity two convolutions in a row are one "
    "linear map, so the extra layer buys nothing",
    "BatchNorm2d": "add nn.BatchNorm2d after the ReLU: it rescales each channel to a steady mean and spread over the "
    "batch, so the next block's inputs keep their scale and the network trains faster (2 parameters a channel)",
    "Dropout": "add nn.Dropout at the end of the block: during training it zeroes a few activations at random, so "
    "the network cannot lean on any single one (it overfits less)",
    "MaxPool2d": "add nn.MaxPool2d(2, 2) after the 1×1 convolution: halving the map doubles the jump, so every later "
    "3×3 convolution sees twice as far for the same parameters",
    "GAP": "average each of the last maps to one number (nn.AvgPool2d over the whole map): the head then reads one "
    "value a channel, whatever the map's size",
    "Conv2d": "a whole block is missing here: the course has a convolution at this point (count your blocks against "
    "the lesson's table)",
}
WHY_EXTRA = {
    "ReLU": "remove it: after the head it would cut every negative class score to 0, after the 1×1 transition it "
    "would drop whatever the mix of channels found negative",
    "BatchNorm2d": "remove it: the course rescales the channels only inside its 3×3 blocks, never the class scores",
    "Dropout": "remove it: the course drops activations only at the end of its 3×3 blocks",
    "MaxPool2d": "remove it: the course pools once, after the 1×1 transition (24×24 → 12×12)",
    "GAP": "remove it: the course averages the maps only once, before the head",
}


@dataclass
class Layer:
    name: str
    module: nn.Module
    kind: str
    size_in: int  # the side of the map that goes in
    out_shape: tuple
    functional: bool = False  # a ReLU found in forward (F.relu), not as a module


@dataclass
class Block:
    layers: list[Layer] = field(default_factory=list)
    receptive_field: int = 1

    @property
    def kinds(self) -> list[str]:
        return [layer.kind for layer in self.layers]

    @property
    def conv(self) -> nn.Conv2d | None:
        return next((layer.module for layer in self.layers if layer.kind == "Conv2d"), None)

    @property
    def parameters(self) -> int:
        return sum(p.numel() for layer in self.layers for p in layer.module.parameters())

    @property
    def out_shape(self) -> tuple:
        return self.layers[-1].out_shape


def _kind(module: nn.Module) -> str:
    return next((kind for cls, kind in KINDS.items() if isinstance(module, cls)), type(module).__name__)


def trace(model: nn.Module) -> tuple[list[Layer], torch.Tensor]:
    """Every leaf module of a CPU copy of ``model`` (eval mode) in the order a random 1×28×28 image runs through
    them, and the network's output. A convolution whose next layer only ever sees numbers ≥ 0 is followed by a
    functional ReLU, which is added to the list."""
    copied = copy.deepcopy(model).cpu().eval()
    caught, hooks = [], []
    for name, module in copied.named_modules():
        if not list(module.children()) and not isinstance(module, SKIPPED):
            hooks.append(module.register_forward_hook(lambda m, i, o, name=name: caught.append((name, m, i[0], o))))
    image = torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    try:
        with torch.no_grad():
            output = copied(image)
    finally:
        for hook in hooks:
            hook.remove()
    layers = []
    for i, (name, module, x_in, out) in enumerate(caught):
        layers.append(Layer(name, module, _kind(module), x_in.shape[-1], tuple(out.shape[1:])))
        following = caught[i + 1] if i + 1 < len(caught) else None
        if following is not None and not isinstance(module, nn.ReLU) and not isinstance(following[1], nn.ReLU):
            after = following[2]
            if after.shape == out.shape and out.min() < 0 <= after.min():  # F.relu ran in between
                layers.append(Layer(name, nn.ReLU(), "ReLU", out.shape[-1], tuple(out.shape[1:]), functional=True))
    return layers, output


def _window(layer: Layer) -> tuple[int, int] | None:
    """(kernel, stride) of a layer that looks at a window of its input; None for the others."""
    module = layer.module
    if isinstance(module, nn.AdaptiveAvgPool2d):
        return layer.size_in, 1
    if not hasattr(module, "kernel_size"):
        return None
    pair = [getattr(module, a) for a in ("kernel_size", "stride")]
    return tuple(v[0] if isinstance(v, tuple) else int(v) for v in pair)


def blocks(model: nn.Module) -> tuple[list[Block], torch.Tensor]:
    """The run cut into blocks, before every convolution and before global average pooling, each with the
    receptive field it ends with: r_out = r_in + (k − 1)·j_in, j_out = j_in·s (``models.receptive_field_table``)."""
    layers, output = trace(model)
    cut, rf, jump = [], 1, 1
    for layer in layers:
        if not cut or layer.kind in ("Conv2d", "GAP"):
            cut.append(Block())
        cut[-1].layers.append(layer)
        window = _window(layer)
        if window is not None:
            rf, jump = rf + (window[0] - 1) * jump, jump * window[1]
        cut[-1].receptive_field = rf
    return cut, output


def _labels(reference: list[Block]) -> list[str]:
    names = [block.layers[0].name.split(".")[0] for block in reference]
    out = []
    for i, name in enumerate(names):
        label = f"block {name.removeprefix('convblock')}" if name.startswith("convblock") else name
        label = "global average pooling" if reference[i].kinds[0] == "GAP" else label
        out.append(label + (f" (part {names[:i].count(name) + 1})" if names.count(name) > 1 else ""))
    return out


def _code(layer: Layer) -> str:
    m = layer.module
    if isinstance(m, nn.Conv2d):
        k, p, s = m.kernel_size[0], m.padding[0], m.stride[0]
        extra = (f", stride={s}" if s != 1 else "") + (f", groups={m.groups}" if m.groups > 1 else "")
        channels = f"{m.in_channels}, {m.out_channels}"
        return f"nn.Conv2d({channels}, kernel_size={k}, padding={p}{extra}, bias={m.bias is not None})"
    simple = {
        nn.BatchNorm2d: lambda: f"nn.BatchNorm2d({m.num_features})",
        nn.Dropout: lambda: f"nn.Dropout({m.p})",
        nn.ReLU: lambda: "nn.ReLU()",
        nn.MaxPool2d: lambda: f"nn.MaxPool2d({m.kernel_size}, {m.stride})",
        nn.AvgPool2d: lambda: f"nn.AvgPool2d(kernel_size={m.kernel_size})",
    }
    return next((make() for cls, make in simple.items() if type(m) is cls), repr(m))


def _layer_hint(mine: Block, theirs: Block) -> str | None:
    """What differs in the kind and order of the layers, or None."""
    missing = [k for k in theirs.kinds if k not in mine.kinds]
    extra = [k for k in mine.kinds if k not in theirs.kinds]
    if theirs.conv is None and mine.conv is not None and mine.kinds[0] == "Conv2d":
        return f"here the course's has a {theirs.kinds[0]}, yours one convolution block more: remove that block"
    if missing:
        return f"it has no {missing[0]}: {WHY_MISSING.get(missing[0], 'add it')}"
    if extra:
        return f"it has a {extra[0]} the course's has not there; {WHY_EXTRA.get(extra[0], 'remove it')}"
    if mine.kinds != theirs.kinds:
        return (
            f"its layers run in another order ({' → '.join(mine.kinds)}); the course's run "
            f"{' → '.join(theirs.kinds)}: in the course the ReLU cuts first, then BatchNorm rescales what is left"
        )
    return None


def _conv_hint(mine: nn.Conv2d, theirs: nn.Conv2d, size_in: int) -> str | None:
    """What differs in the convolution's settings, or None."""
    k, k0 = mine.kernel_size[0], theirs.kernel_size[0]
    if k != k0:
        return (
            f"its kernel is {k}×{k}: the course's is {k0}×{k0} (kernel_size={k0}); a k×k kernel costs "
            f"k·k·c_in·c_out weights and widens the receptive field by k − 1 steps"
        )
    if mine.in_channels != theirs.in_channels:
        return f"it takes {mine.in_channels} channels in: in_channels must be the previous block's out_channels"
    if mine.out_channels != theirs.out_channels:
        more = "more" if theirs.out_channels > mine.out_channels else "fewer"
        return (
            f"it makes {mine.out_channels} channels: the course's makes {more} "
            f"(out_channels, and the next block's in_channels); every channel costs 9·c_in weights in a 3×3 block"
        )
    if mine.padding != theirs.padding:
        p, p0 = mine.padding[0], theirs.padding[0]
        side, side0 = size_in + 2 * p - k + 1, size_in + 2 * p0 - k + 1
        return (
            f"padding={p} turns the {size_in}×{size_in} map into {side}×{side}: the course's padding={p0} makes "
            f"it {side0}×{side0} (each side shrinks by k − 1 − 2·padding)"
        )
    if mine.stride != theirs.stride or mine.groups != theirs.groups:
        return f"its stride or groups differ from the course's: use stride={theirs.stride[0]}, groups={theirs.groups}"
    if (mine.bias is None) != (theirs.bias is None):
        return (
            "pass bias=False: the course's convolutions have no bias (one parameter per output channel each, and "
            "a budget under 8,000; the BatchNorm after the ReLU brings its own shift)"
            if mine.bias is not None
            else "this convolution has a bias in the course's network: pass bias=True"
        )
    return None


def _block_hint(mine: Block, theirs: Block) -> str | None:
    hint = _layer_hint(mine, theirs)
    if hint is None and theirs.conv is not None:
        size_in = next(layer.size_in for layer in mine.layers if layer.kind == "Conv2d")
        hint = _conv_hint(mine.conv, theirs.conv, size_in)
    for a, b in zip(mine.layers, theirs.layers, strict=False):
        if hint is None and a.kind == b.kind == "Dropout" and a.module.p != b.module.p:
            hint = f"its Dropout drops {a.module.p:g} of the activations: the course's drops {b.module.p:g}"
        if hint is None and a.kind == b.kind == "MaxPool2d" and _window(a) != _window(b):
            hint = "the course's MaxPool2d is 2×2 with stride 2: it halves the map"
    checks = [
        ("output shape", "×".join(map(str, mine.out_shape)), "×".join(map(str, theirs.out_shape))),
        ("parameters", mine.parameters, theirs.parameters),
        ("receptive field", mine.receptive_field, theirs.receptive_field),
    ]
    for what, a, b in checks:
        if hint is None and a != b:
            hint = f"its {what} is {a}: the course's differs; compare its layers with the table the lesson shows"
    return hint


def _output_hint(output: torch.Tensor) -> str | None:
    if output.dim() != 2 or output.shape[-1] != 10:
        return (
            f"the network returns a {tuple(output.shape)} tensor for 2 images: it must return (2, 10), one score "
            "per digit; flatten the head's 10×1×1 maps with x.view(-1, 10)"
        )
    total = output.logsumexp(dim=-1)
    if not torch.allclose(total, torch.zeros_like(total), atol=1e-4):
        sums_to_one = output.min() >= 0 and torch.allclose(output.sum(dim=-1), torch.ones_like(total), atol=1e-4)
        what = "probabilities (softmax)" if sums_to_one else "raw scores"
        return (
            f"it returns {what}: end forward with F.log_softmax(x, dim=-1), because the loss it trains with, "
            "F.nll_loss, expects log-probabilities (their exponentials sum to 1)"
        )
    return None


def _table(mine: list[Block], labels: list[str]) -> str:
    rows = []
    for i, block in enumerate(mine):
        rows.append(
            {
                "block": labels[i] if i < len(labels) else f"extra {i + 1}",
                "layers": " → ".join(block.kinds),
                "output": "×".join(map(str, block.out_shape)),
                "parameters": block.parameters,
                "receptive field": block.receptive_field,
            }
        )
    return format_table(rows)


@functools.lru_cache(maxsize=8)
def _course_blocks(name: str) -> list[Block]:
    return blocks(get_model(name))[0]


def _student(model) -> nn.Module:
    model = model() if isinstance(model, type) and issubclass(model, nn.Module) else model
    if not isinstance(model, nn.Module):
        raise TypeError(f"network() takes your nn.Module (an instance such as MyModel1()), not {model!r}")
    return model


def network(model, reference="model_1", *, show_answer: bool = False) -> Verdict:
    """Compare your ``nn.Module`` (or its class) with a course network (a name, ``get_model``'s, or a module) block by
    block: its layers, the convolution's settings, output shape, parameters and receptive field. The first
    difference gets a hint; ``show_answer=True`` also shows the course's layers for that block."""
    mine_model, name = _student(model), reference if isinstance(reference, str) else type(reference).__name__
    theirs = _course_blocks(reference) if isinstance(reference, str) else blocks(reference)[0]
    labels = _labels(theirs)
    try:
        mine, output = blocks(mine_model)
    except Exception as error:  # a student's forward that cannot run: say where to look
        hint = "check that each in_channels equals the out_channels before it, and that the head leaves 10 numbers"
        return failed(f"Your network fails on a 1×28×28 image: {type(error).__name__}: {error}.", sentence(hint))
    details = dict(table=_table(mine, labels), parameters=count_parameters(mine_model))
    for i, block in enumerate(theirs):
        if i >= len(mine):
            hint = f"the course's goes on with {', '.join(labels[i:])}"
            answer = _answer(theirs[i], labels[i]) if show_answer else ""
            return failed(f"Your network stops after {len(mine)} blocks.", sentence(hint), answer, **details)
        hint = _block_hint(mine[i], block)
        if hint is not None:
            answer = _answer(block, labels[i]) if show_answer else ""
            return failed(f"{labels[i].capitalize()} differs from {name}'s.", sentence(hint), answer, **details)
    if len(mine) > len(theirs):
        extra = " → ".join(layer.kind for b in mine[len(theirs) :] for layer in b.layers)
        return failed(f"Your network goes on after {name}'s last block ({extra}).", "Remove it.", **details)
    hint = _output_hint(output)
    if hint is not None:
        answer = "The course's forward ends with: return F.log_softmax(x.view(-1, 10), dim=-1)" if show_answer else ""
        return failed("The output differs from the course's.", sentence(hint), answer, **details)
    total = details["parameters"]
    return passed(
        f"Your network matches {name} block by block: its {len(theirs)} parts, block 1 to the head, have the same "
        f"layers, output shapes, parameters ({total:,} in all) and receptive fields.",
        **details,
    )


def _answer(block: Block, label: str) -> str:
    return f"The course's {label}: " + " → ".join(_code(layer) for layer in block.layers)
