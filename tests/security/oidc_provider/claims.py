"""The test provider's scope "org": the groups of the person, from the provider's Django groups."""

from oidc_provider.lib.claims import ScopeClaims


class OrgScopeClaims(ScopeClaims):
    info_org = ("Organisation", "Your groups in the organisation.")

    def scope_org(self):
        return {"groups": sorted(self.user.groups.values_list("name", flat=True))}
