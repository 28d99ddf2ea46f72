"""Routing: path templates, converters, the matcher and routers."""

from plait.routing.callnext import CallNext
from plait.routing.converters import Converter, register_converter
from plait.routing.router import Mount, Route, RouteOptions, Router
from plait.routing.stack import Middleware

__all__ = ["CallNext", "Converter", "Middleware", "Mount", "Route", "RouteOptions", "Router", "register_converter"]
