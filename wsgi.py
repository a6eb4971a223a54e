"""Builds the portal once for `gunicorn wsgi:app`."""
