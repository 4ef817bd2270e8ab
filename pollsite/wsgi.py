"""WSGI entry point; the role comes from DJANGO_SETTINGS_MODULE alone."""

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
