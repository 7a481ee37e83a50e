"""The factor ledgers' API serializers: ledgers with their totals, lines, requests, and what the
writes take (validated here, written by the services)."""

from rest_framework import serializers

from cases.api.text import PlainTextMixin
from cases.models import KeyProject, PreworkItem, Unit

from ..models import QUANTITY, Factor, FactorLedger, FactorLine, FactorRequest, LineKind


class LedgerSerializer(serializers.ModelSerializer):
    balance = serializers.DecimalField(read_only=True, **QUANTITY)
    unit = serializers.CharField(read_only=True, help_text="The factor's unit: 亩, 吨标准煤 or 吨.")
    bureau_name = serializers.CharField(source="bureau.name", read_only=True)

    class Meta:
        model = FactorLedger
        fields = [
            "id", "factor", "year", "bureau", "bureau_name", "unit",
            "received", "reserved", "allocated", "returned", "balance",
        ]
        read_only_fields = fields


class LedgerOpenSerializer(serializers.Serializer):
    factor = serializers.ChoiceField(choices=Factor.choices)
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    bureau = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.filter(kind="department"))


class LineSerializer(serializers.ModelSerializer):
    class Meta:
        model = FactorLine
        fields = [
            "id", "ledger", "position", "kind", "quantity", "balance_after", "request", "project",
            "reason", "document_number", "actor_name", "at",
        ]
        read_only_fields = fields


class LineCreateSerializer(PlainTextMixin, serializers.Serializer):
    """A line received or returned; reservations and allocations are steps of a request."""

    kind = serializers.ChoiceField(choices=[(k, LineKind(k).label) for k in (LineKind.RECEIVED, LineKind.RETURNED)])
    quantity = serializers.DecimalField(min_value=0, help_text="In the factor's unit.", **QUANTITY)
    reason = serializers.CharField(max_length=2000)
    document_number = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    project = serializers.PrimaryKeyRelatedField(queryset=KeyProject.objects.none(), required=False, allow_null=True)


class RequestSerializer(serializers.ModelSerializer):
    factor = serializers.CharField(source="ledger.factor", read_only=True)
    year = serializers.IntegerField(source="ledger.year", read_only=True)
    unit = serializers.CharField(read_only=True)
    shortfall = serializers.DecimalField(read_only=True, **QUANTITY)

    class Meta:
        model = FactorRequest
        fields = [
            "id", "item", "project", "ledger", "factor", "year", "quantity", "unit", "state", "shortfall",
            "note", "requested_at",
        ]
        read_only_fields = fields


class RequestCreateSerializer(PlainTextMixin, serializers.Serializer):
    item = serializers.PrimaryKeyRelatedField(queryset=PreworkItem.objects.none())
    factor = serializers.ChoiceField(choices=Factor.choices)
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    quantity = serializers.DecimalField(min_value=0, help_text="In the factor's unit.", **QUANTITY)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RequestStepSerializer(PlainTextMixin, serializers.Serializer):
    step = serializers.ChoiceField(choices=["reserve", "release", "allocate"])
    reason = serializers.CharField(max_length=2000)
    document_number = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")


class RaisedBlockerSerializer(serializers.Serializer):
    """The blocker a shortfall was raised as (its page is the case's)."""

    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    project = serializers.IntegerField(source="project_id", read_only=True)
