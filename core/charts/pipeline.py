"""The prediction pipeline as a Graphviz DOT graph (the home page's diagram)."""

from __future__ import annotations


def pipeline_dot(*, example: bool = True) -> str:
    """The prediction pipeline as a Graphviz DOT graph (rendered by the home page)."""
    steps = [
        ("image", "image"),
        ("pre", "preprocess\\nresize · crop · normalise"),
        ("model", "model(x)"),
        ("logits", "logits z\\n(unnormalised scores)"),
        ("softmax", "softmax(z / T)\\nprobabilities, sum = 1"),
        ("topk", "top-k\\nvalues + indices"),
        ("labels", "index → label\\nEnglish · 中文 · yours"),
    ]
    if example:
        steps.append(("out", "1. espresso (95.7%)"))
    fill = {"softmax": "#FDE8E2"}  # the step this tool is about stands out
    nodes = "\n".join(
        f'  {key} [label="{text}", shape=box, style="rounded,filled", fillcolor="{fill.get(key, "#EEF0FB")}"];'
        for key, text in steps
    )
    edges = " -> ".join(key for key, _ in steps)
    return (
        "digraph pipeline {\n  rankdir=LR; bgcolor=transparent;\n"
        '  node [fontname="Helvetica", fontsize=11, color="#8891A8"]; edge [color="#8891A8"];\n'
        f"{nodes}\n  {edges};\n}}"
    )
