"""Errors the services raise, for pages and the API to turn into answers people read."""

from django.utils.translation import gettext_lazy as _


class ServiceError(Exception):
    default_message = ""

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))


class Conflict(ServiceError):
    """Someone else changed the record after it was read; nothing was saved."""

    default_message = _(
        "Someone else changed this record after you opened it. Reload it and try again."
    )


class TransitionNotAvailable(ServiceError):
    """The transition does not start from the record's current state."""

    def __init__(self, name, state_label):
        self.name = name
        self.state_label = state_label
        super().__init__(
            _("“%(transition)s” is not possible from the current state (%(state)s).")
            % {"transition": name, "state": state_label}
        )


class TransitionBlocked(ServiceError):
    """The transition's guard says what is missing."""

    def __init__(self, reasons):
        self.reasons = [str(reason) for reason in reasons]
        super().__init__(" ".join(self.reasons))
