"""Plait: one Python web framework."""
