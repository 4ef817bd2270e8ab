from django.urls import path

from apps.choice import api

urlpatterns = [
    path("polls/<id:poll_id>/choices/", api.PollChoicesApi.as_view(), name="poll-choices"),
    path("choices/<id:choice_id>/", api.ChoiceDetailApi.as_view(), name="choice-detail"),
]
