"""Handler parameters: where each value comes from, decided once from the signature."""

from plait.params.markers import Body, Cookie, File, Form, Header, Param, Path, Query

__all__ = ["Body", "Cookie", "File", "Form", "Header", "Param", "Path", "Query"]
