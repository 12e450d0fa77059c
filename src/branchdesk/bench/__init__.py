"""Benchmarks (`branchdesk bench ...`): load runs against a running server, not tests."""
