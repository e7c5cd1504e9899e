"""Reading a committed notebook as a test needs it: its Markdown, a section of it, what a code cell showed."""

import nbformat


def read(path):
    return nbformat.read(path, as_version=4)


def markdown(nb) -> list[str]:
    return [cell.source for cell in nb.cells if cell.cell_type == "markdown"]


def section(nb, heading: str) -> str:
    """The Markdown from one ``## `` heading line to the next, wherever the cells break."""
    found, inside = [], False
    for line in "\n".join(markdown(nb)).splitlines():
        if line.startswith("## "):
            inside = line == heading
        if inside:
            found.append(line)
    return "\n".join(found)


def outputs(cell) -> str:
    """Everything a code cell printed or displayed as text: streams, Markdown, plain and HTML reprs."""
    texts = []
    for out in cell.get("outputs", []):
        texts.append(out.get("text", ""))
        texts += [out.get("data", {}).get(kind, "") for kind in ("text/markdown", "text/plain", "text/html")]
    return "".join(t if isinstance(t, str) else "".join(t) for t in texts)
