"""A tiny OpenID provider (django-oidc-provider) for the single sign-on tests, run in a process of
its own with its own SQLite database: ``python -m tests.security.oidc_provider.serve PORT``.

The names here are what the tests and the provider share; this package imports no Django.
"""

CLIENT_ID = "keyprojects"
CLIENT_SECRET = "tests-only-client-secret"
# The test client of the product answers on http://testserver.
REDIRECT_URI = "http://testserver/oidc/callback/"
PASSWORD = "op-password-for-tests"
# username: (name, family name, given name, groups) of the provider's people.
PEOPLE = {
    "zhangsan": ("张三", "张", "三", ["park-staff"]),
    "lisi": ("李四", "李", "四", []),
}
