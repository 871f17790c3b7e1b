"""Placeholder handler; the real one replaces this file."""


def lambda_handler(event, context):
    ...
