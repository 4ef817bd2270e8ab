"""Writing only what a change gives."""

from django.db.models import Model


def save_given(instance: Model, **values) -> list[str]:
    """Set the fields whose value is not None and save those alone (an update's optional
    fields: None means "not given"); the names saved."""
    given = {name: value for name, value in values.items() if value is not None}
    for name, value in given.items():
        setattr(instance, name, value)
    if given:
        instance.save(update_fields=list(given))
    return list(given)
