"""Views in a URL: the Image Inspector's (`inspector`) and the Logits Lab's (`lab`).

A broken parameter never breaks a link: it becomes a message and that part of the view keeps its default.
"""
