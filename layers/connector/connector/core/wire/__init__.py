"""OpenAI Events API wire format: the only package that spells OpenAI's field names and limits.

A change at OpenAI (a field, a limit, an error shape) is a change to this package alone:
build.py builds one event from mapped values (its types and data object), with fields.py (the field
rules and limits), user.py (the user object) and items.py (content items);
check.py holds an already-built event (a queued one) to the same rules before it is sent,
request.py is the request and response format and its limits.
"""
