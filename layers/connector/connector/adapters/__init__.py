"""Adapters to AWS, OpenAI over HTTP and Powertools; they import the core only (connector/__init__.py)."""
