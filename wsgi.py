"""Entry point for gunicorn: `gunicorn wsgi:app`."""
from procurement import create_app

app = create_app()
