"""accessgen: typed, security-aware Python clients from OpenAPI descriptions."""

__version__ = "0.1.0"
