"""Shared model machinery: optimistic versioning for records that have a state machine, and the
permission their transitions ask."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransition, ConcurrentTransitionMixin


class VersionedModel(ConcurrentTransitionMixin, models.Model):
    """A record whose every save checks that nobody saved it since it was read.

    django-fsm's ConcurrentTransitionMixin makes the UPDATE filter on the state the row had
    when it was read; this adds the same for a version number, so that an edit of plain
    fields is protected too. A lost race raises ``django_fsm.ConcurrentTransition``.
    """

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._persisted_version = self.__dict__.get("version")

    def save(self, *args, **kwargs):
        if not self._state.adding and self._persisted_version is not None:
            self.version = self._persisted_version + 1
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "version", "updated_at"}
        super().save(*args, **kwargs)
        self._persisted_version = self.version

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update, *args):
        if self._persisted_version is None:
            return super()._do_update(base_qs, using, pk_val, values, update_fields, forced_update, *args)
        versioned = base_qs.filter(version=self._persisted_version)
        updated = super()._do_update(versioned, using, pk_val, values, update_fields, forced_update, *args)
        if not updated and base_qs.filter(pk=pk_val).using(using).exists():
            # The row is there with another version: someone saved it since we read it.
            raise ConcurrentTransition("The record was changed since it was read.")
        return updated

    def validate(self, exclude=()):
        """full_clean without the protected state fields, which only transitions set.

        Check constraints are said field by field in ``clean``; the database keeps them too.
        """
        state_fields = [f.name for f in self.state_fields]
        self.full_clean(exclude=[*state_fields, *exclude], validate_constraints=False)

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self._persisted_version = self.__dict__.get("version")


# Who may take a transition is decided by ``cases.permissions``, which reads the models: it
# registers its answer here when it is imported (``CasesConfig.ready``), so that the models
# need not import it back.
_transition_permission_check = None


def set_transition_permission_check(check):
    """``check(user, record, name)`` answers every record's transition permission."""
    global _transition_permission_check
    _transition_permission_check = check


def transition_permission(name):
    """A django-fsm permission that asks the one permission module."""

    def check(instance, user):
        if _transition_permission_check is None:
            raise RuntimeError("cases.permissions has not registered its transition check")
        return _transition_permission_check(user, instance, name)

    check.__name__ = f"may_{name}"
    return check
