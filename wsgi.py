"""Entry point for gunicorn: gunicorn wsgi:app"""
from casemgmt import create_app

app = create_app()
