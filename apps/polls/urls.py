from django.urls import path

from apps.polls import api

urlpatterns = [
    path("polls/", api.PollListCreateApi.as_view(), name="poll-list"),
    path("polls/<id:poll_id>/", api.PollDetailApi.as_view(), name="poll-detail"),
    path("polls/<id:poll_id>/close/", api.PollCloseApi.as_view(), name="poll-close"),
    path("polls/<id:poll_id>/overview/", api.PollOverviewApi.as_view(), name="poll-overview"),
]
