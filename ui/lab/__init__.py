"""The Logits Lab's UI: the page's parts (`page`), the sections under the results (`sections`), session state and
callbacks (`state`)."""
