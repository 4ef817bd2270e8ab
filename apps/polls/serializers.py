from django.utils import timezone
from rest_framework import serializers

from apps.polls.models import Poll
from pollsite.events.contract import PollStatus


class PollOutputSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()

    class Meta:
        model = Poll
        fields = ["id", "question", "creator", "created_at", "closes_at", "closed_at", "status"]

    def get_status(self, poll: Poll) -> str:
        return poll.status_at(timezone.now())


class PollCreateSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=200)
    closes_at = serializers.DateTimeField(required=False, allow_null=True)


class PollUpdateSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=200, required=False)
    closes_at = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give at least one of: question, closes_at.")
        return attrs


class PollListFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[(status.value, status.name.title()) for status in PollStatus], required=False)
