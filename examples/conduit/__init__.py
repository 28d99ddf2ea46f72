"""Conduit, RealWorld's Medium-like blog, as a Plait app: the API under ``/api``, the site, the admin."""
