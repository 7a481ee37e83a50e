"""``python -m tests.security.oidc_provider.serve PORT``: migrate the test provider's database
(OP_DATABASE), register the product as a client, create the people of ``PEOPLE``, and serve on
127.0.0.1:PORT until killed. Prints "ready" once it listens."""

import os
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def seed():
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from oidc_provider.models import Client, ResponseType

    from . import CLIENT_ID, CLIENT_SECRET, PASSWORD, PEOPLE, REDIRECT_URI

    call_command("migrate", verbosity=0)
    call_command("creatersakey", stdout=open(os.devnull, "w"))
    client = Client.objects.create(
        name="Key projects",
        client_type="confidential",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        jwt_alg="RS256",
        require_consent=False,
        reuse_consent=True,
        _redirect_uris=REDIRECT_URI,
    )
    client.response_types.add(ResponseType.objects.get(value="code"))
    for username, (_name, family_name, given_name, groups) in PEOPLE.items():
        user = User.objects.create_user(
            username,
            email=f"{username}@idp.example",
            password=PASSWORD,
            first_name=given_name,
            last_name=family_name,
        )
        for group in groups:
            user.groups.add(Group.objects.get_or_create(name=group)[0])


def main(port):
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.security.oidc_provider.settings"
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application

    seed()
    server = make_server("127.0.0.1", port, get_wsgi_application(), handler_class=QuietHandler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]))
