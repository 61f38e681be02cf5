"""Attune's knowledge library: load, clean, split, embed and index documents, and retrieve passages.

Imports nothing from the rest of Attune; callers pass in paths and sizes explicitly.
"""
