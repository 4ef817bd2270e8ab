from django.apps import AppConfig


class PollsConfig(AppConfig):
    name = "apps.polls"
    label = "polls"
    default_auto_field = "django.db.models.BigAutoField"
