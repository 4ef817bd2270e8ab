"""Root URLconf of every role: the role's own app mounted under its prefix, and nothing else.

Another role's paths answer 404 here. The probes (/healthz, /readyz, /metrics) are
answered by pollsite.api.edge before URL resolution.
"""

from importlib import import_module

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from pollsite.api.converters import IdConverter
from pollsite.roles import get_role

register_converter(IdConverter, "id")  # before the apps' URLconfs, which use <id:...>

role = get_role(settings.ROLE)
prefix = settings.URL_PREFIX.lstrip("/")

# Every path spelled out under the prefix, rather than the prefix include()-ing the rest:
# one level less to resolve on every request.
urlpatterns = [
    path(f"{prefix}api/v1/", include((import_module(f"{role.app}.urls").urlpatterns, role.name), namespace="v1")),
    path(f"{prefix}api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(f"{prefix}api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]
if settings.ADMIN_ENABLED:
    admin.site.site_header = f"pollsite — {role.name}"
    admin.site.site_title = f"pollsite {role.name} admin"
    admin.site.site_url = settings.URL_PREFIX + "api/docs/"  # "View site": the root belongs to no role
    urlpatterns.append(path(f"{prefix}admin/", admin.site.urls))

handler400 = "pollsite.api.errors.handler400"
handler403 = "pollsite.api.errors.handler403"
handler404 = "pollsite.api.errors.handler404"
handler500 = "pollsite.api.errors.handler500"
