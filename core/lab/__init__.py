"""The Logits Lab's computations: read what people paste or upload, and lay out the softmax math.

- `logit_table`: the table of classes (`LabTable`), its validation and edits, `LabInputError`;
- `values`: a number from text or a table cell, and back;
- `parse`: pasted text, CSV, JSON and .npy in; `write`: CSV and JSON out;
- `presets`: the examples and the Image Inspector's handoff;
- `steps`: the math tables (step by step, overflow, filters, sampling, claims, inverse);
- `matrix`: the dim= demo's matrix.

Its figures are in `core.charts.lab`, its shareable URL in `core.links.lab`.
"""
