"""HTTP API of the vote role: parse, call a service or selector, serialize."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from apps.vote import metrics, selectors, services
from apps.vote.serializers import EditLeaseSerializer, ResultsSerializer, VoteCastSerializer, VoteOutputSerializer
from apps.vote.throttling import VotesPerClient, VotesPerVoter
from pollsite.api.lean import LeanAPIView
from pollsite.api.throttling import OneTripThrottling


class VoteCastApi(OneTripThrottling, LeanAPIView):
    """Cast the caller's vote in a poll (the voter is the token's subject): one per voter and poll."""

    # The vote role's hot path: a well-formed cast skips DRF's request cycle (pollsite.api.lean).

    serializer_class = VoteOutputSerializer
    input_serializer = VoteCastSerializer
    output_serializer = VoteOutputSerializer
    throttle_classes = [VotesPerVoter, VotesPerClient]

    @extend_schema(request=VoteCastSerializer, responses={201: VoteOutputSerializer})
    def post(self, request, poll_id: int):
        vote = services.vote_cast(poll_id=poll_id, voter=request.user.subject, **self.input_data(request))
        metrics.VOTES_CAST.inc()
        return self.respond(vote, status.HTTP_201_CREATED)

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


class EditLeaseApi(GenericAPIView):
    """Hold new votes while the poll's creator changes its question or a choice's text.

    Refused with 409 poll_has_votes once the poll has a vote. The polls and choice roles
    take a lease on the creator's behalf around such a change.
    """  # the client side: pollsite.api.edit_lease

    serializer_class = EditLeaseSerializer
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={201: EditLeaseSerializer})
    def post(self, request, poll_id: int):
        poll = services.edit_lease_take(poll_id=poll_id, actor=request.user.subject)
        return Response(EditLeaseSerializer(poll).data, status=status.HTTP_201_CREATED)


class EditLeaseReleaseApi(GenericAPIView):
    """End a lease once the change committed (or gave up); a lease already gone is no error."""

    serializer_class = EditLeaseSerializer
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, poll_id: int, lease_id):
        services.edit_lease_release(poll_id=poll_id, lease_id=lease_id, actor=request.user.subject)
        return Response(status=status.HTTP_204_NO_CONTENT)
