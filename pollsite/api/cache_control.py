"""Responses meant for one caller are never kept by a shared cache (a proxy, a CDN)."""

from django.utils.cache import patch_cache_control

#: What patch_cache_control(no_store=True, private=True) writes on a response without the header.
PRIVATE = "no-store, private"


def mark_private(request, response) -> None:
    """An answer to a request that carries a bearer token is that caller's (their vote,
    their poll as its creator, an error about their token): ``no-store, private``.
    The admin's pages carry Django's own never-cache headers already, which are merged."""
    if "HTTP_AUTHORIZATION" not in request.META:
        return
    if "Cache-Control" in response:
        patch_cache_control(response, no_store=True, private=True)
    else:
        response["Cache-Control"] = PRIVATE
