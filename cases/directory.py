"""The office directory's sign-on (LDAP, through django-auth-ldap): a directory password signs
in, and the directory groups and attributes give the person their unit, role and rank through
the sign-on mappings (``cases.identity``)."""

from django_auth_ldap.backend import LDAPBackend

from .identity import sign_on_or_tell, tell_if_unmapped
from .models import IdentitySource

# Attributes no mapping should read.
HIDDEN_ATTRIBUTES = {"userpassword"}
# A directory user's account is named apart from the local ones ("bank", "admin", an outsider's),
# so that a directory entry of that name never signs into a local account.
PREFIX = "ldap-"


def directory_claims(ldap_user, *, with_groups):
    """What the mappings match for a directory user: the attributes of their entry, and, as
    ``group``, the names and DNs of their groups."""
    claims = {
        name.casefold(): values
        for name, values in ldap_user.attrs.items()
        if name.casefold() not in HIDDEN_ATTRIBUTES
    }
    if with_groups:
        claims["group"] = sorted(set(ldap_user.group_names) | set(ldap_user.group_dns))
    return claims


class OfficeDirectoryBackend(LDAPBackend):
    """django-auth-ldap's backend; a directory user who matches no mapping has no unit."""

    def ldap_to_django_username(self, username):
        return f"{PREFIX}{username}"

    def django_to_ldap_username(self, username):
        return username.removeprefix(PREFIX)

    def authenticate(self, request, username=None, password=None, **kwargs):
        self.request = request
        return super().authenticate(request, username=username, password=password, **kwargs)

    def authenticate_ldap_user(self, ldap_user, password):
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is None:
            return None
        claims = directory_claims(ldap_user, with_groups=self.settings.GROUP_SEARCH is not None)
        name = next(iter(claims.get("displayname") or claims.get("cn") or []), "")
        person = sign_on_or_tell(
            self.request, user=user, source=IdentitySource.LDAP, claims=claims, name=name
        )
        tell_if_unmapped(self.request, person)
        return user
