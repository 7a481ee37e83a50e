"""What the financing pages share: their base page, links, amounts in 万元 and form errors."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from cases.formatting import TEN_THOUSAND
from cases.models import Role
from cases.views import AllowedPage

from .. import permissions

PAGE_SIZE = 25


def need_url(need):
    return reverse("financing:need_detail", args=[need.pk])


def product_url(product):
    return reverse("financing:product_detail", args=[product.pk])


def _optional_url(name, *args):
    """The address of a page another part of the application provides, or None without it."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _wan(value):
    return value * TEN_THOUSAND if value is not None else None


def needs_home(user):
    """(address, title) of the list a need's page leads back to: an owner enterprise's people their
    own needs, everyone else the white list."""
    if permissions.role_of(user) == Role.OWNER:
        return reverse("financing:own_needs"), _("Our financing needs")
    return reverse("financing:white_list"), _("White list of financing needs")


def _query_without_page(request):
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


class FinancingPage(AllowedPage):
    """A page for the white list's readers: government people and institutions' people."""

    def allowed(self, user):
        return permissions.can_read_white_list(user)


def _form_errors(form, error):
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# The white list


def _choices(choices, blank):
    return [("", blank), *choices]
