"""HTTP API of the vote role: parse, call a service or selector, serialize."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from apps.vote import selectors, services
from apps.vote.serializers import ResultsSerializer, VoteCastSerializer, VoteOutputSerializer
from pollsite import metrics
from pollsite.throttling import ClientRateThrottle, OneTripThrottling, VoterRateThrottle


class VoteCastApi(OneTripThrottling, GenericAPIView):
    serializer_class = VoteOutputSerializer
    throttle_classes = [VoterRateThrottle, ClientRateThrottle]

    @extend_schema(request=VoteCastSerializer, responses={201: VoteOutputSerializer})
    def post(self, request, poll_id: int):
        data = VoteCastSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        vote = services.vote_cast(poll_id=poll_id, voter=request.user.subject, **data.validated_data)
        metrics.VOTES_CAST.inc()
        return Response(VoteOutputSerializer(vote).data, status=status.HTTP_201_CREATED)

    def handle_exception(self, exc):
        response = super().handle_exception(exc)  # unknown errors re-raise: a 500, not a refusal
        metrics.vote_refused(response.data["error"]["code"])
        return response


class MyVoteApi(GenericAPIView):
    """The caller's own vote in a poll (the voter is the token's subject)."""

    serializer_class = VoteOutputSerializer
    permission_classes = [IsAuthenticated]

    def get(self, request, poll_id: int):
        return Response(VoteOutputSerializer(selectors.vote_of_voter(poll_id=poll_id, voter=request.user.subject)).data)


class ResultsApi(GenericAPIView):
    serializer_class = ResultsSerializer

    def get(self, request, poll_id: int):
        return Response(ResultsSerializer(selectors.poll_results(poll_id=poll_id)).data)
