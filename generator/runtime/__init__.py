"""Runtime shared by every generated client.

This package is copied verbatim into each generated package as ``_runtime``; it
must only use relative imports and depend on nothing but httpx and pydantic.
"""
