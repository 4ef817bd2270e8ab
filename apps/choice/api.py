"""HTTP API of the choice role: parse, call a service or selector, serialize."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from apps.choice import selectors, services
from apps.choice.serializers import ChoiceCreateSerializer, ChoiceOutputSerializer, ChoiceUpdateSerializer


class PollChoicesApi(GenericAPIView):
    serializer_class = ChoiceOutputSerializer
    pagination_class = None  # a poll has at most MAX_CHOICES_PER_POLL choices: one plain list

    @extend_schema(responses=ChoiceOutputSerializer(many=True))
    def get(self, request, poll_id: int):
        return Response(ChoiceOutputSerializer(selectors.choice_list(poll_id=poll_id), many=True).data)

    @extend_schema(request=ChoiceCreateSerializer, responses={201: ChoiceOutputSerializer})
    def post(self, request, poll_id: int):
        data = ChoiceCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        choice = services.choice_create(poll_id=poll_id, actor=request.user.subject, **data.validated_data)
        return Response(ChoiceOutputSerializer(choice).data, status=status.HTTP_201_CREATED)


class ChoiceDetailApi(GenericAPIView):
    serializer_class = ChoiceOutputSerializer

    def get(self, request, choice_id: int):
        return Response(ChoiceOutputSerializer(selectors.choice_get(choice_id=choice_id)).data)

    @extend_schema(request=ChoiceUpdateSerializer, responses=ChoiceOutputSerializer)
    def patch(self, request, choice_id: int):
        data = ChoiceUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        choice = services.choice_update(choice_id=choice_id, actor=request.user.subject, **data.validated_data)
        return Response(ChoiceOutputSerializer(choice).data)

    @extend_schema(responses={204: None})
    def delete(self, request, choice_id: int):
        services.choice_delete(choice_id=choice_id, actor=request.user.subject)
        return Response(status=status.HTTP_204_NO_CONTENT)
