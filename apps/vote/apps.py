from django.apps import AppConfig


class VoteConfig(AppConfig):
    name = "apps.vote"
    label = "vote"
    default_auto_field = "django.db.models.BigAutoField"
