"""Shared by the tests: the skip policy (skip_policy.py)."""

pytest_plugins = ["skip_policy"]
