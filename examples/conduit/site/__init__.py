"""The server-rendered site: pages, forms and the error page."""
