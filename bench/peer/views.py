from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework import exceptions, generics, serializers

from bench.peer.models import KnownChoice, KnownPoll, Tally, Vote


class VoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Vote
        fields = ["id", "poll_id", "choice_id", "voter", "created_at"]
        read_only_fields = ["id", "poll_id", "voter", "created_at"]

    def validate(self, attrs):
        poll_id = self.context["view"].kwargs["poll_id"]
        if not KnownChoice.objects.filter(choice_id=attrs["choice_id"], poll_id=poll_id, deleted=False).exists():
            raise serializers.ValidationError({"choice_id": "Not a choice of this poll."})
        poll = KnownPoll.objects.filter(poll_id=poll_id).first()
        if poll is None or poll.status != 0 or (poll.closes_at is not None and poll.closes_at <= timezone.now()):
            raise exceptions.ValidationError("The poll is not open.")
        return attrs


class VoteCreate(generics.CreateAPIView):
    serializer_class = VoteSerializer

    def perform_create(self, serializer):
        poll_id = self.kwargs["poll_id"]
        try:
            with transaction.atomic():
                vote = serializer.save(poll_id=poll_id, voter=self.request.user.id)
                tally, _ = Tally.objects.get_or_create(poll_id=poll_id, choice_id=vote.choice_id, shard=0)
                Tally.objects.filter(pk=tally.pk).update(count=F("count") + 1)
        except IntegrityError:
            raise exceptions.ValidationError("Already voted.") from None
