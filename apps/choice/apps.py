from django.apps import AppConfig


class ChoiceConfig(AppConfig):
    name = "apps.choice"
    label = "choice"
    default_auto_field = "django.db.models.BigAutoField"
