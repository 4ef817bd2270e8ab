from rest_framework import serializers

from apps.choice.models import Choice


class ChoiceOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Choice
        fields = ["id", "poll_id", "text", "order"]


class ChoiceCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=200)
    order = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False)


class ChoiceUpdateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=200, required=False)
    order = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give at least one of: text, order.")
        return attrs
