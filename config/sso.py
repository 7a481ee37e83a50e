"""Single sign-on settings, read from the environment: the unified identity (OpenID Connect) and
the office directory (LDAP), both off unless turned on. ``config/settings.py`` adds what
``sso_settings`` returns; README.md ("Single sign-on") lists the variables."""

from django.core.exceptions import ImproperlyConfigured

OIDC_BACKEND = "cases.identity.UnifiedIdentityBackend"
LDAP_BACKEND = "cases.directory.OfficeDirectoryBackend"

OIDC_REQUIRED = [
    "OIDC_RP_CLIENT_ID",
    "OIDC_RP_CLIENT_SECRET",
    "OIDC_OP_AUTHORIZATION_ENDPOINT",
    "OIDC_OP_TOKEN_ENDPOINT",
    "OIDC_OP_USER_ENDPOINT",
    "OIDC_OP_JWKS_ENDPOINT",
    "OIDC_OP_ISSUER",
]
LDAP_REQUIRED = ["LDAP_SERVER_URI", "LDAP_USER_SEARCH_BASE"]


def _required(env, names, switch):
    missing = [name for name in names if not env(name, default="")]
    if missing:
        raise ImproperlyConfigured(f"{switch} is on, and these must be set too: {', '.join(missing)}.")
    return {name: env(name) for name in names}


def oidc_settings(env):
    values = _required(env, OIDC_REQUIRED, "OIDC_ENABLED")
    values.update(
        {
            "OIDC_RP_SIGN_ALGO": env("OIDC_RP_SIGN_ALGO", default="RS256"),
            "OIDC_RP_SCOPES": env("OIDC_RP_SCOPES", default="openid email profile"),
            "OIDC_USE_PKCE": env.bool("OIDC_USE_PKCE", default=False),
            "OIDC_VERIFY_SSL": env.bool("OIDC_VERIFY_SSL", default=True),
            "OIDC_TIMEOUT": env.float("OIDC_TIMEOUT_SECONDS", default=10.0),
            # Accounts are found by the provider's subject (sub), never by an e-mail address.
            "OIDC_CREATE_USER": True,
        }
    )
    return values


def ldap_settings(env):
    # Imported only when the directory is on: python-ldap is the optional extra `ldap`.
    try:
        import ldap
        from django_auth_ldap.config import (
            GroupOfNamesType,
            GroupOfUniqueNamesType,
            LDAPSearch,
            PosixGroupType,
        )
    except ImportError as exc:
        raise ImproperlyConfigured(
            'LDAP_ENABLED is on but django-auth-ldap is not installed: pip install -e ".[ldap]" '
            "(python-ldap compiles against Debian's libldap2-dev and libsasl2-dev)."
        ) from exc

    required = _required(env, LDAP_REQUIRED, "LDAP_ENABLED")
    timeout = env.int("LDAP_TIMEOUT_SECONDS", default=5)
    values = {
        "AUTH_LDAP_SERVER_URI": required["LDAP_SERVER_URI"],
        "AUTH_LDAP_BIND_DN": env("LDAP_BIND_DN", default=""),
        "AUTH_LDAP_BIND_PASSWORD": env("LDAP_BIND_PASSWORD", default=""),
        "AUTH_LDAP_START_TLS": env.bool("LDAP_START_TLS", default=False),
        "AUTH_LDAP_USER_SEARCH": LDAPSearch(
            required["LDAP_USER_SEARCH_BASE"],
            ldap.SCOPE_SUBTREE,
            env("LDAP_USER_FILTER", default="(uid=%(user)s)"),
        ),
        "AUTH_LDAP_USER_ATTR_MAP": {"first_name": "givenName", "last_name": "sn", "email": "mail"},
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,
        "AUTH_LDAP_CONNECTION_OPTIONS": {
            ldap.OPT_NETWORK_TIMEOUT: timeout,
            ldap.OPT_TIMEOUT: timeout,
            ldap.OPT_REFERRALS: 0,
        },
    }
    group_base = env("LDAP_GROUP_SEARCH_BASE", default="")
    if group_base:
        group_types = {
            "groupOfNames": GroupOfNamesType,
            "groupOfUniqueNames": GroupOfUniqueNamesType,
            "posixGroup": PosixGroupType,
        }
        kind = env("LDAP_GROUP_TYPE", default="groupOfNames")
        if kind not in group_types:
            raise ImproperlyConfigured(f"LDAP_GROUP_TYPE must be one of {', '.join(group_types)}, not {kind!r}.")
        values["AUTH_LDAP_GROUP_SEARCH"] = LDAPSearch(
            group_base, ldap.SCOPE_SUBTREE, env("LDAP_GROUP_FILTER", default=f"(objectClass={kind})")
        )
        values["AUTH_LDAP_GROUP_TYPE"] = group_types[kind]()
    return values


def sso_settings(env, backends):
    """The settings single sign-on adds, ``AUTHENTICATION_BACKENDS`` among them: ``backends``
    with the sign-ons that are on right after the first (axes', which must stay first)."""
    values = {
        "OIDC_ENABLED": env.bool("OIDC_ENABLED", default=False),
        "LDAP_ENABLED": env.bool("LDAP_ENABLED", default=False),
    }
    added = []
    if values["OIDC_ENABLED"]:
        values.update(oidc_settings(env))
        added.append(OIDC_BACKEND)
    if values["LDAP_ENABLED"]:
        values.update(ldap_settings(env))
        added.append(LDAP_BACKEND)
    values["AUTHENTICATION_BACKENDS"] = [*backends[:1], *added, *backends[1:]]
    return values
