"""Factories for the notifications app: people who can be told things, and messenger webhooks."""

import factory

from notifications.models import Webhook
from tests.cases.factories import UserFactory


class RecipientFactory(UserFactory):
    """A user with an email address, so that email deliveries are written for them."""

    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")


class WebhookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Webhook

    name = factory.Sequence(lambda n: f"robot-{n:03d}")
    kind = Webhook.Kind.GENERIC
    url = "https://example.invalid/hook"
