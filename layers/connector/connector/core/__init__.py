"""The pure core: no AWS, no network, no Powertools; see connector/__init__.py for the layers."""
