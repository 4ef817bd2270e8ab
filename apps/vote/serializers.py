from rest_framework import serializers

from apps.vote.models import Vote


class VoteCastSerializer(serializers.Serializer):
    choice_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class VoteOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Vote
        fields = ["id", "poll_id", "choice_id", "voter", "created_at"]


class ChoiceResultSerializer(serializers.Serializer):
    choice_id = serializers.IntegerField()
    votes = serializers.IntegerField()


class ResultsSerializer(serializers.Serializer):
    poll_id = serializers.IntegerField()
    total = serializers.IntegerField()
    choices = ChoiceResultSerializer(many=True)
