"""HTTP API of the polls role: parse, call a service or selector, serialize. No business logic."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from apps.polls import selectors, services
from apps.polls.composition import poll_overview
from apps.polls.serializers import (
    PollCreateSerializer,
    PollListFilterSerializer,
    PollOutputSerializer,
    PollUpdateSerializer,
)
from pollsite.api.throttling import ComposedReadsPerClient, OneTripThrottling, ReadsPerClient


class PollListCreateApi(GenericAPIView):
    serializer_class = PollOutputSerializer

    @extend_schema(parameters=[PollListFilterSerializer], responses=PollOutputSerializer(many=True))
    def get(self, request):
        filters = PollListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.poll_list(**filters.validated_data))
        return self.get_paginated_response(PollOutputSerializer(page, many=True).data)

    @extend_schema(request=PollCreateSerializer, responses={201: PollOutputSerializer})
    def post(self, request):
        data = PollCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        poll = services.poll_create(creator=request.user.subject, **data.validated_data)
        return Response(PollOutputSerializer(poll).data, status=status.HTTP_201_CREATED)


class PollDetailApi(GenericAPIView):
    serializer_class = PollOutputSerializer

    def get(self, request, poll_id: int):
        return Response(PollOutputSerializer(selectors.poll_get(poll_id=poll_id)).data)

    @extend_schema(request=PollUpdateSerializer, responses=PollOutputSerializer)
    def patch(self, request, poll_id: int):
        data = PollUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        poll = services.poll_update(poll_id=poll_id, actor=request.user.subject, **data.validated_data)
        return Response(PollOutputSerializer(poll).data)

    @extend_schema(responses={204: None})
    def delete(self, request, poll_id: int):
        services.poll_delete(poll_id=poll_id, actor=request.user.subject)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PollCloseApi(GenericAPIView):
    serializer_class = PollOutputSerializer

    @extend_schema(request=None, responses=PollOutputSerializer)
    def post(self, request, poll_id: int):
        poll = services.poll_close(poll_id=poll_id, actor=request.user.subject)
        return Response(PollOutputSerializer(poll).data)


class PollOverviewApi(OneTripThrottling, GenericAPIView):
    """A poll with its choices and its current results, in one response."""

    serializer_class = PollOutputSerializer
    throttle_classes = [ReadsPerClient, ComposedReadsPerClient]  # it fans out to two roles

    @extend_schema(parameters=[OpenApiParameter("poll_id", int, OpenApiParameter.PATH)], responses=dict)
    def get(self, request, poll_id: int):
        poll = selectors.poll_get(poll_id=poll_id)
        return Response(poll_overview(poll=poll, poll_data=PollOutputSerializer(poll).data))
