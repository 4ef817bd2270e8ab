"""WSGI entry point; the role comes from DJANGO_SETTINGS_MODULE alone."""

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()

from pollsite.api.auth import verification_configured  # noqa: E402 - needs the settings loaded above

verification_configured()  # a web process that cannot verify tokens stops here, saying why
