"""The bell: every page knows how many unread notifications its reader has (one query, when shown).
"""

from django.utils.functional import SimpleLazyObject

from . import selectors


def inbox(request):
    user = getattr(request, "user", None)
    return {"unread_notification_count": SimpleLazyObject(lambda: selectors.unread_count(user))}
