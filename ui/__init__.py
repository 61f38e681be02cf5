"""Attune's Gradio web UI: asking, practising and evaluating in the browser.

Not built yet: the web UI follows once asking and practice work from the command line.
"""
