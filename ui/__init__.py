"""The Gradio web UI: asking, practising and looking back at progress, served on this machine."""
