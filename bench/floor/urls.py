import json
import uuid

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

#: Created by the harness with the columns, key and indexes of ``vote_vote``.
TABLE = "bench_vote"


@csrf_exempt
def vote(request, poll_id: int):
    if request.method != "POST":
        return HttpResponse(status=405)
    choice_id = int(json.loads(request.body)["choice_id"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (poll_id, choice_id, voter, created_at) VALUES (%s, %s, %s, now()) RETURNING id",  # noqa: S608
            [poll_id, choice_id, uuid.uuid4().hex],
        )
        (vote_id,) = cursor.fetchone()
    return JsonResponse({"id": vote_id, "poll_id": poll_id, "choice_id": choice_id}, status=201)


def ready(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("floor/polls/<int:poll_id>/votes/", vote),
    path("readyz", ready),
]
