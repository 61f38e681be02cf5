"""The Gradio web UI: asking, practising and looking back at progress, served on this machine."""

# The addresses that mean "this machine only": no password is needed there, and the server answers only them.
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
