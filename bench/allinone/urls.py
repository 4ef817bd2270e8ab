"""Every role's API under its own prefix, in one URLconf (see bench.allinone.settings)."""

from importlib import import_module

from django.urls import include, path, register_converter

from pollsite.api.converters import IdConverter
from pollsite.roles import ROLES

register_converter(IdConverter, "id")

urlpatterns = [
    path(
        role.url_prefix().lstrip("/") + "api/v1/",
        include((import_module(f"{role.app}.urls").urlpatterns, role.name), namespace=f"{role.name}-v1"),
    )
    for role in ROLES.values()
]

handler404 = "pollsite.api.errors.handler404"
handler500 = "pollsite.api.errors.handler500"
