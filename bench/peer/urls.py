from django.db import connection
from django.http import JsonResponse
from django.urls import include, path

from bench.peer.views import VoteCreate


def ready(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("peer/polls/<int:poll_id>/votes/", VoteCreate.as_view()),
    path("readyz", ready),
    path("", include("django_prometheus.urls")),
]
