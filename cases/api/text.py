"""Serializer bases that hold the API's text to the forms' rule (``cases.forms``): no control
characters but tab and line breaks, and free text bounded by ``FREE_TEXT_MAX_LENGTH``."""

from django.core.validators import MaxLengthValidator
from rest_framework import serializers

from ..forms import FREE_TEXT_MAX_LENGTH, ProhibitControlCharactersValidator


def _guard(field):
    if isinstance(field, serializers.ListSerializer):
        field = field.child
    if isinstance(field, serializers.BaseSerializer):
        for child in field.fields.values():
            _guard(child)
    elif isinstance(field, (serializers.ListField, serializers.DictField)):
        _guard(field.child)
    elif isinstance(field, serializers.CharField) and not field.read_only:
        if not any(isinstance(v, ProhibitControlCharactersValidator) for v in field.validators):
            field.validators.append(ProhibitControlCharactersValidator())
        if field.max_length is None:
            # The schema reads ``max_length``; the validator enforces it.
            field.max_length = FREE_TEXT_MAX_LENGTH
            field.validators.append(
                MaxLengthValidator(
                    FREE_TEXT_MAX_LENGTH,
                    message=field.error_messages["max_length"].format(max_length=FREE_TEXT_MAX_LENGTH),
                )
            )


class PlainTextMixin:
    """Puts the forms' rule on every writable text field, declared or from the model."""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            _guard(field)
        return fields


class Serializer(PlainTextMixin, serializers.Serializer):
    pass


class ModelSerializer(PlainTextMixin, serializers.ModelSerializer):
    pass
