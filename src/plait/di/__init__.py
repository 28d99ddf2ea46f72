"""Dependency injection: providers resolved per request (or once per app), graph checked at startup."""

from plait.di.container import Container
from plait.di.markers import Depends
from plait.di.plan import CallPlan, compile_plan

__all__ = ["CallPlan", "Container", "Depends", "compile_plan"]
