"""The services: delivery, ingest and the batch sender, built on the core and the ports in core/ports.py."""
