from django.urls import path

from apps.vote import api

urlpatterns = [
    path("polls/<id:poll_id>/votes/", api.VoteCastApi.as_view(), name="vote-cast"),
    path("polls/<id:poll_id>/votes/mine/", api.MyVoteApi.as_view(), name="vote-mine"),
    path("polls/<id:poll_id>/results/", api.ResultsApi.as_view(), name="poll-results"),
    path("polls/<id:poll_id>/edit-lease/", api.EditLeaseApi.as_view(), name="edit-lease"),
    path("polls/<id:poll_id>/edit-lease/<uuid:lease_id>/", api.EditLeaseReleaseApi.as_view(), name="edit-lease-release"),
]
