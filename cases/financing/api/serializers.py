"""Serializers financing docking adds to the case core's API: a docking as a case's detail lists
it, a key project's detail with its dockings, and a docking's transition request."""

from rest_framework import serializers

from cases.api import serializers as case_serializers
from cases.api.serializers import TransitionOptionSerializer, TransitionRequestSerializer

from ..models import Docking
from ..services.dockings import DOCKING_TRANSITION_FIELDS

__all__ = [
    "DockingSummarySerializer",
    "DockingTransitionSerializer",
    "ProjectDetailSerializer",
    "TransitionOptionSerializer",
]


class DockingSummarySerializer(serializers.ModelSerializer):
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = Docking
        fields = [
            "id",
            "institution",
            "institution_name",
            "state",
            "state_display",
            "intent_amount",
            "credit_approved_amount",
            "disbursed_amount",
            "disbursed_on",
        ]



class ProjectDetailSerializer(case_serializers.ProjectDetailSerializer):
    dockings = DockingSummarySerializer(many=True, read_only=True)

    class Meta(case_serializers.ProjectDetailSerializer.Meta):
        fields = [
            *(name for name in case_serializers.ProjectDetailSerializer.Meta.fields if name not in ("created_at", "updated_at")),
            "dockings",
            "created_at",
            "updated_at",
        ]


class DockingTransitionSerializer(TransitionRequestSerializer):
    model = Docking
    intent_amount = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=0, required=False
    )
    credit_approved_amount = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=0, required=False
    )
    disbursed_amount = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=0, required=False
    )
    disbursed_on = serializers.DateField(required=False)
    fields_by_transition = DOCKING_TRANSITION_FIELDS
