import datetime

from django.conf import settings
from rest_framework import serializers

from apps.vote.models import Vote


class VoteCastSerializer(serializers.Serializer):
    choice_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class VoteOutputSerializer(serializers.Serializer):
    """A vote as the API shows it. Fields declared, not derived from the model: a
    ModelSerializer rebuilds its fields by introspection for every instance, which was a
    sixth of the vote path's CPU (bench/run.py --profile)."""

    id = serializers.IntegerField(read_only=True)
    poll_id = serializers.IntegerField(read_only=True)
    choice_id = serializers.IntegerField(read_only=True)
    voter = serializers.CharField(read_only=True, max_length=Vote._meta.get_field("voter").max_length)
    created_at = serializers.DateTimeField(read_only=True, default_timezone=datetime.UTC)  # UTC, as TIME_ZONE; not looked up per vote


class ChoiceResultSerializer(serializers.Serializer):
    choice_id = serializers.IntegerField()
    votes = serializers.IntegerField()


class ResultsSerializer(serializers.Serializer):
    poll_id = serializers.IntegerField()
    total = serializers.IntegerField()
    choices = ChoiceResultSerializer(many=True)


class EditLeaseSerializer(serializers.Serializer):
    """A hold on new votes while the poll's creator changes its wording."""

    poll_id = serializers.IntegerField(read_only=True)
    lease_id = serializers.UUIDField(read_only=True, source="edit_lease_id")
    expires_at = serializers.DateTimeField(read_only=True, source="edit_lease_until", default_timezone=datetime.UTC)
    seconds = serializers.SerializerMethodField()

    def get_seconds(self, poll) -> int:
        return settings.VOTE_EDIT_LEASE_SECONDS
