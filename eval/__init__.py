"""Attune's evaluation: the empathy and non-blame rubric (`eval.rubric`, a leaf the agent imports), the suites
that run the coach over question sets, their reports, `attune eval` and `attune bench`.
"""
