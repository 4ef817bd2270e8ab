"""Project configuration shared by every role: URLs, WSGI, gunicorn, deploy checks, the local .env."""
