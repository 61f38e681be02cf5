"""Attune's evaluation: the empathy and non-blame rubric and the suites that run the coach over question sets.

Not built yet: the rubric and suites are the next piece of work (see the project's issues).
"""
