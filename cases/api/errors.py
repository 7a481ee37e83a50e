"""Turn service errors into API answers: 400 with reasons, 403, 404, 409."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..services import Conflict, TransitionBlocked, TransitionNotAvailable


def exception_handler(exc, context):
    if isinstance(exc, Conflict):
        return Response({"detail": str(exc.message), "code": "conflict"}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, TransitionBlocked):
        return Response(
            {"detail": str(exc.message), "code": "transition_blocked", "reasons": exc.reasons},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, TransitionNotAvailable):
        return Response(
            {"detail": str(exc.message), "code": "transition_not_available"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            body = {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
        else:
            body = {"non_field_errors": [str(m) for m in exc.messages]}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
