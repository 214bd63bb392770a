"""The Dataset Evaluation page's UI: the data in and the run (`inputs`), what every renderer shares (`view`), the
results (`results`), the debugging tools (`diagnose`) and the HTML report (`report`)."""
