"""The one hook through which others react to what happens to cases and their records.

``record_changed`` is sent by the services inside their transaction, after a record was
created or moved along its state machine, saved and audited, with its related rows
written. (django-fsm's own ``post_transition`` fires before the record is saved, too
early for a reader of its state.) ``workflow`` listens to it to advance its flows;
``cases.financing`` to keep a case's financing needs in step with the case.

Arguments: ``instance`` (the record), ``action`` ("created", "transition", or "updated" for a
case whose facts changed, with ``changes``: the changed fields, as audited), ``transition``
(its name, or ""), ``actor`` (the user).
"""

from django.dispatch import Signal

record_changed = Signal()
