"""A "Reviews" item in the Wagtail admin menu, for the council's content moderators.

The queue itself is a site page (/reviews/moderate/), permission-checked there.
"""

from django.urls import reverse

from wagtail import hooks
from wagtail.admin.menu import MenuItem

from marketplace.accounts.roles import Role


class ReviewModerationMenuItem(MenuItem):
    def is_shown(self, request) -> bool:
        return request.user.has_role(Role.CMS_EDITOR, Role.ADMINISTRATOR)


@hooks.register("register_admin_menu_item")
def register_review_moderation_menu_item():
    return ReviewModerationMenuItem(
        "Review moderation", reverse("reviews:moderate"), icon_name="comment", order=250
    )
