"""Helpers shared by the tests: in-memory fakes of the services' ports (fakes.py)."""
