from django.urls import path

from apps.vote import api

urlpatterns = [
    path("polls/<id:poll_id>/votes/", api.VoteCastApi.as_view(), name="vote-cast"),
    path("polls/<id:poll_id>/votes/mine/", api.MyVoteApi.as_view(), name="vote-mine"),
    path("polls/<id:poll_id>/results/", api.ResultsApi.as_view(), name="poll-results"),
]
