from django.contrib import admin

from apps.vote.models import KnownChoice, KnownPoll, TallyShard, Vote
from pollsite.admin import ReadOnlyAdmin


@admin.register(Vote)
class VoteAdmin(ReadOnlyAdmin):
    list_display = ["id", "poll_id", "choice_id", "voter", "created_at"]
    search_fields = ["voter"]
    list_filter = ["poll_id"]


@admin.register(TallyShard)
class TallyShardAdmin(ReadOnlyAdmin):
    list_display = ["poll_id", "choice_id", "shard", "count"]
    list_filter = ["poll_id"]


@admin.register(KnownPoll)
class KnownPollAdmin(ReadOnlyAdmin):
    list_display = ["poll_id", "status", "closes_at", "updated_at"]
    list_filter = ["status"]


@admin.register(KnownChoice)
class KnownChoiceAdmin(ReadOnlyAdmin):
    list_display = ["choice_id", "poll_id", "deleted"]
    list_filter = ["deleted"]
