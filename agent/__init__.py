"""Attune's agent: settings, the chat-model factory, the grounded coach and the `attune` command.

Uses `knowledge` for retrieval; nothing here imports `ui`.
"""
