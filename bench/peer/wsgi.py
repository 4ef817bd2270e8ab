"""WSGI entry point of the peer (DJANGO_SETTINGS_MODULE=bench.peer.settings)."""

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
