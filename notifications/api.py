"""The inbox in the API: list, unread count, mark read, mark all read; preferences."""

from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from . import messages, selectors, services
from .models import Channel, Notification


class NotificationSerializer(serializers.ModelSerializer):
    title = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "key", "title", "body", "link", "urgent", "created_at", "read_at", "read"]

    def _rendered(self, notification):
        request = self.context.get("request")
        language = getattr(request, "LANGUAGE_CODE", None) or "en"
        return messages.render(notification.key, notification.context, language)

    def get_title(self, notification) -> str:
        return self._rendered(notification)[0]

    def get_body(self, notification) -> str:
        return self._rendered(notification)[1]

    def get_read(self, notification) -> bool:
        return notification.read_at is not None


class PreferenceSerializer(serializers.Serializer):
    language = serializers.CharField(allow_blank=True, required=False, max_length=10)
    daily_digest = serializers.BooleanField(required=False)
    channels_off = serializers.DictField(
        child=serializers.ListField(child=serializers.ChoiceField(choices=Channel.choices)),
        required=False,
        help_text="For each kind of message, the channels you do not want.",
    )

    def validate_channels_off(self, value):
        unknown = sorted(set(value) - set(messages.REGISTRY))
        if unknown:
            raise serializers.ValidationError(f"Unknown kinds of message: {', '.join(unknown)}")
        return value

    def validate_language(self, value):
        from django.conf import settings

        if value and value not in dict(settings.LANGUAGES):
            raise serializers.ValidationError("Not one of the languages of the site.")
        return value


@extend_schema_view(
    list=extend_schema(summary="My notifications, newest first"),
    retrieve=extend_schema(summary="One of my notifications"),
)
class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()  # the schema's model; get_queryset gives the reader's own
    filterset_fields = ["key", "urgent"]
    ordering_fields = ["created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        unread = self.request.query_params.get("unread") in ("1", "true", "yes")
        return selectors.inbox(self.request.user, unread_only=unread)

    @extend_schema(
        summary="How many of my notifications are unread",
        responses=inline_serializer("UnreadCount", {"unread": serializers.IntegerField()}),
    )
    @action(detail=False, methods=["get"], url_path="unread-count", filterset_fields=[], pagination_class=None)
    def unread_count(self, request):
        return Response({"unread": selectors.unread_count(request.user)})

    @extend_schema(summary="Mark one of my notifications read", request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_object()
        services.mark_read(user=request.user, notification_id=notification.pk)
        notification.refresh_from_db()
        return Response(self.get_serializer(notification).data)

    @extend_schema(
        summary="Mark all my notifications read",
        request=None,
        responses=inline_serializer("MarkedRead", {"marked": serializers.IntegerField()}),
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": services.mark_all_read(user=request.user)})


class PreferenceView(APIView):
    @extend_schema(summary="My notification preferences", responses=PreferenceSerializer)
    def get(self, request):
        preference = services.preference_for(request.user)
        return Response(
            PreferenceSerializer(
                {
                    "language": preference.language,
                    "daily_digest": preference.daily_digest,
                    "channels_off": preference.channels_off,
                }
            ).data
        )

    @extend_schema(summary="Change my notification preferences", request=PreferenceSerializer, responses=PreferenceSerializer)
    def put(self, request):
        serializer = PreferenceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        preference = services.set_preferences(user=request.user, **serializer.validated_data)
        return Response(
            PreferenceSerializer(
                {
                    "language": preference.language,
                    "daily_digest": preference.daily_digest,
                    "channels_off": preference.channels_off,
                }
            ).data,
            status=status.HTTP_200_OK,
        )
