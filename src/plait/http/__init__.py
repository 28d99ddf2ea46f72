"""Sans-IO HTTP helpers: pure functions over bytes and strings, tested without a server."""
