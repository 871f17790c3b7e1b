"""Helpers shared by the tests; test files import from here, never from one another.

repo.py: the repository's paths and sample events (the one load_event). core.py: the pure core's fixed clock,
settings and contract hashes. loopback.py: driving the handlers against the stand-in, moto and the SQS emulator.
sam.py: SAM CLI and its transform. template.py: template.yaml as a dict. leak_guard.py: what must never be
logged. fakes.py: in-memory fakes of the services' ports.
"""
