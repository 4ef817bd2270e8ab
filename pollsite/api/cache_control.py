"""Responses meant for one caller are never kept by a shared cache (a proxy, a CDN)."""

from django.utils.cache import patch_cache_control


class PrivateResponsesMiddleware:
    """An answer to a request that carries a bearer token is that caller's (their vote,
    their poll as its creator, an error about their token): ``no-store, private``.
    The admin's pages carry Django's own never-cache headers already."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "HTTP_AUTHORIZATION" in request.META:
            patch_cache_control(response, no_store=True, private=True)
        return response
