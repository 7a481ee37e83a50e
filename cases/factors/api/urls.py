"""The factor ledgers' API routes under /api/ (``ROUTES``); ``config.api`` routes them."""

from . import views

ROUTES = [
    ("factor-ledgers", views.LedgerViewSet, "factor-ledger"),
    ("factor-requests", views.RequestViewSet, "factor-request"),
]

PATHS = []
