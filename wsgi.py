"""Builds the portal once for `gunicorn wsgi:app -c gunicorn.conf.py`."""

from app import create_app

app = create_app()
