"""The office directory's sign-on (LDAP) against a private slapd that the tests start: a directory
password signs in and the groups give the role; a wrong one fails and counts toward the lockout;
someone not in the directory logs in with a local password; off by default."""

import subprocess
import time

import environ
import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from cases.identity import REFUSED, UNMAPPED
from cases.models import AuditAction, AuditEvent, IdentityMapping, IdentitySource, Person, Role
from config.sso import LDAP_BACKEND, OIDC_BACKEND, sso_settings
from tests import services
from tests.cases.factories import PASSWORD, KeyProjectFactory

pytestmark = [pytest.mark.ldap, pytest.mark.django_db, pytest.mark.once]

SUFFIX = "dc=kp,dc=test"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "directory-admin-secret"
# uid: (cn, password, groups)
DIRECTORY = {
    "zhangwei": ("张伟", "zhangwei-directory-pw", ["park-staff"]),
    "wangfang": ("王芳", "wangfang-directory-pw", ["park-staff", "park-heads"]),
    "liqiang": ("李强", "liqiang-directory-pw", []),
    # the same name as a local account of the organisation (its head), a different person
    "head": ("何冬", "head-directory-pw", ["park-staff"]),
}
GROUPS = ["park-staff", "park-heads"]

SLAPD_CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile {root}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 10485760
suffix "{suffix}"
rootdn "{admin}"
rootpw {password}
directory {root}/db
access to attrs=userPassword by anonymous auth by self read by * none
access to * by users read by * none
"""


def directory_ldif():
    entries = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Key projects\ndc: kp\n",
        f"dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n",
    ]
    for uid, (cn, password, _groups) in DIRECTORY.items():
        entries.append(
            f"dn: uid={uid},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {cn}\n"
            f"sn: {cn[0]}\ngivenName: {cn[1:]}\nmail: {uid}@office.example\nuserPassword: {password}\n"
        )
    return "\n".join(entries) + "\n"


def groups_ldif():
    """Added with ldapadd once slapd runs, as an administrator would."""
    entries = [f"dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n"]
    for group in GROUPS:
        members = [uid for uid, (_cn, _pw, groups) in DIRECTORY.items() if group in groups]
        lines = "".join(f"member: uid={uid},ou=people,{SUFFIX}\n" for uid in members)
        entries.append(f"dn: cn={group},ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: {group}\n{lines}")
    return "\n".join(entries) + "\n"


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    """A private slapd on a free port with its own configuration and database; stopped afterwards."""
    root = tmp_path_factory.mktemp("slapd")
    (root / "db").mkdir()
    conf = root / "slapd.conf"
    conf.write_text(SLAPD_CONF.format(root=root, suffix=SUFFIX, admin=ADMIN_DN, password=ADMIN_PASSWORD))
    (root / "people.ldif").write_text(directory_ldif(), encoding="utf-8")
    subprocess.run(
        [services.slapd_tool("slapadd"), "-f", conf, "-l", root / "people.ldif"],
        check=True,
        capture_output=True,
    )
    uri = f"ldap://127.0.0.1:{services.free_port()}/"
    with open(root / "slapd.log", "wb") as log:
        process = subprocess.Popen(
            [services.slapd_tool("slapd"), "-f", conf, "-h", uri, "-d", "0"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while not services.tcp_reachable(uri, 389):
            assert process.poll() is None, (root / "slapd.log").read_text(errors="replace")
            assert time.monotonic() < deadline, "slapd did not listen within 20 s"
            time.sleep(0.1)
        subprocess.run(
            ["ldapadd", "-x", "-H", uri, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD],
            input=groups_ldif().encode(),
            check=True,
            capture_output=True,
        )
        yield uri
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def default_backends(settings):
    return list(settings.AUTHENTICATION_BACKENDS)


@pytest.fixture
def ldap_on(directory, settings, monkeypatch, default_backends):
    """The settings config/sso.py makes of the README's variables for this directory."""
    for name, value in {
        "LDAP_ENABLED": "true",
        "LDAP_SERVER_URI": directory,
        "LDAP_BIND_DN": ADMIN_DN,
        "LDAP_BIND_PASSWORD": ADMIN_PASSWORD,
        "LDAP_USER_SEARCH_BASE": f"ou=people,{SUFFIX}",
        "LDAP_GROUP_SEARCH_BASE": f"ou=groups,{SUFFIX}",
    }.items():
        monkeypatch.setenv(name, value)
    for name, value in sso_settings(environ.Env(), default_backends).items():
        setattr(settings, name, value)
    return settings


@pytest.fixture
def mappings(org):
    staff = IdentityMapping.objects.create(
        source=IdentitySource.LDAP, claim="group", value="park-staff", unit=org.park, role=Role.UNIT_STAFF
    )
    heads = IdentityMapping.objects.create(
        source=IdentitySource.LDAP,
        claim="group",
        value="park-heads",
        unit=org.park,
        role=Role.UNIT_HEAD,
        rank="unit_chief",
        priority=10,
    )
    return {"staff": staff, "heads": heads}


def log_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def signed_in_user(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def test_the_directory_is_off_by_default(settings, org):
    assert settings.LDAP_ENABLED is False
    assert LDAP_BACKEND not in settings.AUTHENTICATION_BACKENDS
    assert not hasattr(settings, "AUTH_LDAP_SERVER_URI")


def test_while_off_a_directory_password_signs_nobody_in(directory, settings, mappings):
    client = Client()
    response = log_in(client, "zhangwei", DIRECTORY["zhangwei"][1])
    assert response.status_code == 200
    assert signed_in_user(client) is None
    assert not User.objects.filter(username="ldap-zhangwei").exists()


def test_sign_on_turned_on_puts_the_directory_after_axes(ldap_on, default_backends):
    assert ldap_on.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert ldap_on.AUTHENTICATION_BACKENDS[1] == LDAP_BACKEND
    assert ldap_on.AUTHENTICATION_BACKENDS[2:] == default_backends[1:]
    assert OIDC_BACKEND not in ldap_on.AUTHENTICATION_BACKENDS


def test_a_directory_password_signs_in_and_the_group_gives_unit_and_role(ldap_on, mappings, org):
    client = Client()
    response = log_in(client, "zhangwei", DIRECTORY["zhangwei"][1])
    assert response.status_code == 302
    user = signed_in_user(client)
    assert user.username == "ldap-zhangwei"
    assert user.email == "zhangwei@office.example"
    assert not user.has_usable_password()  # the directory keeps the password
    person = Person.objects.get(user=user)
    assert (person.unit, person.role, person.name) == (org.park, Role.UNIT_STAFF, "张伟")
    assert client.session["_auth_user_backend"] == LDAP_BACKEND


def test_of_several_matching_groups_the_lowest_priority_decides(ldap_on, mappings, org):
    client = Client()
    assert log_in(client, "wangfang", DIRECTORY["wangfang"][1]).status_code == 302
    person = Person.objects.get(user__username="ldap-wangfang")
    assert (person.unit, person.role, person.rank) == (org.park, Role.UNIT_HEAD, "unit_chief")


def test_a_directory_user_in_no_mapped_group_is_signed_in_with_no_unit_and_told(ldap_on, mappings):
    client = Client()
    response = log_in(client, "liqiang", DIRECTORY["liqiang"][1])
    assert response.status_code == 302
    assert signed_in_user(client).username == "ldap-liqiang"
    assert not Person.objects.filter(user__username="ldap-liqiang").exists()
    home = client.get("/")
    assert home.status_code == 200
    assert str(UNMAPPED) in home.content.decode()


def test_a_later_sign_in_moves_someone_whose_group_now_maps_elsewhere(ldap_on, mappings, org):
    client = Client()
    assert log_in(client, "zhangwei", DIRECTORY["zhangwei"][1]).status_code == 302
    mappings["staff"].unit = org.department
    mappings["staff"].save()
    client.logout()
    assert log_in(client, "zhangwei", DIRECTORY["zhangwei"][1]).status_code == 302
    person = Person.objects.get(user__username="ldap-zhangwei")
    assert person.unit == org.department
    assert User.objects.filter(username="ldap-zhangwei").count() == 1
    # the trail: created at the first sign-in, moved at the second, by the person signing in
    trail = AuditEvent.objects.filter(object_id=str(person.pk), content_type__model="person").order_by("pk")
    assert [(event.action, event.actor.username) for event in trail] == [
        (AuditAction.CREATED, "ldap-zhangwei"), (AuditAction.UPDATED, "ldap-zhangwei")
    ]
    assert trail[1].changes == {"unit": [org.park.pk, org.department.pk]}
    assert trail[1].reason == "Single sign-on (Office directory (LDAP))"


@pytest.mark.parametrize("with_history", [False, True])
def test_someone_no_longer_mapped_is_refused_and_keeps_their_person(ldap_on, mappings, org, with_history):
    client = Client()
    assert log_in(client, "zhangwei", DIRECTORY["zhangwei"][1]).status_code == 302
    person = Person.objects.get(user__username="ldap-zhangwei")
    if with_history:
        KeyProjectFactory(code="2026-GX-0099", lead_unit=org.park, responsible_leader=person)
    trail = AuditEvent.objects.count()
    mappings["staff"].delete()
    client.logout()
    response = log_in(client, "zhangwei", DIRECTORY["zhangwei"][1])
    assert response.status_code == 200
    assert signed_in_user(client) is None
    assert str(REFUSED) in response.content.decode()
    kept = Person.objects.get(pk=person.pk)
    assert (kept.unit, kept.role) == (org.park, Role.UNIT_STAFF)
    assert AuditEvent.objects.count() == trail


def test_a_directory_entry_named_as_a_local_account_never_signs_into_it(ldap_on, mappings, org):
    # The directory's "head" signs in as its own account, not as the organisation's head
    client = Client()
    assert log_in(client, "head", DIRECTORY["head"][1]).status_code == 302
    user = signed_in_user(client)
    assert user != org.head.user and user.username == "ldap-head"
    assert Person.objects.get(user=user).name == "何冬"
    head = Person.objects.get(pk=org.head.pk)
    assert (head.user, head.unit, head.role, head.name) == (org.head.user, org.head.unit, org.head.role, org.head.name)
    # and the local head still logs in with the local password, as the local head
    other = Client()
    assert log_in(other, "head", PASSWORD).status_code == 302
    assert signed_in_user(other) == org.head.user


def test_a_wrong_directory_password_fails_and_counts_toward_the_lockout(ldap_on, mappings):
    client = Client()
    for attempt in range(1, ldap_on.AXES_FAILURE_LIMIT + 1):
        response = log_in(client, "zhangwei", "not the directory password")
        assert signed_in_user(client) is None
        assert AccessAttempt.objects.get(username="zhangwei").failures_since_start == attempt
    assert response.status_code == 429
    # Locked out: the right directory password does not sign in either.
    response = log_in(client, "zhangwei", DIRECTORY["zhangwei"][1])
    assert response.status_code == 429
    assert signed_in_user(client) is None


def test_someone_not_in_the_directory_logs_in_with_their_local_password(ldap_on, org):
    client = Client()
    response = log_in(client, "bank", PASSWORD)
    assert response.status_code == 302
    assert signed_in_user(client) == org.bank.user
    assert client.session["_auth_user_backend"] == "django.contrib.auth.backends.ModelBackend"
    assert Person.objects.get(user=org.bank.user).unit == org.bank_unit
