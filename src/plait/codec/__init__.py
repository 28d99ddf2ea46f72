"""Typed JSON for Plait: decoders and encoders built once per route from annotations.

The shape follows msgspec's own codecs: ``build_decoder`` and ``build_encoder`` each return
a plain callable made at startup, so the request path does no type inspection.
"""

from plait.codec.bodies import build_decoder, build_encoder, convert_value
from plait.codec.depth import check_depth
from plait.codec.types import is_model_type, is_pydantic_type, unwrap_annotated

__all__ = [
    "build_decoder",
    "build_encoder",
    "check_depth",
    "convert_value",
    "is_model_type",
    "is_pydantic_type",
    "unwrap_annotated",
]
