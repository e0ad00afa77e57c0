"""The roles people hold on the platform.

Council staff roles are Django groups (so a council officer can grant them in
the admin); budget holder, proxy and provider staff follow from records: a
budget holder profile, a current delegation, a provider membership.
"""

from django.db import models


class Role(models.TextChoices):
    BUDGET_HOLDER = "budget_holder", "Budget holder"
    PROXY = "proxy", "Acting for a budget holder"
    PROVIDER_STAFF = "provider_staff", "Provider staff"
    COMMISSIONER = "commissioner", "Commissioner"
    GRANT_OFFICER = "grant_officer", "Grant officer"
    MONITORING_OFFICER = "monitoring_officer", "Monitoring officer"
    CMS_EDITOR = "cms_editor", "Content editor"
    ADMINISTRATOR = "administrator", "Administrator"


# Group names for each role that is granted through a group. "Editors" and
# "Moderators" are the groups Wagtail creates; "Directory editors" edit provider
# records. Content editors belong to any of them.
ROLE_GROUPS: dict[Role, tuple[str, ...]] = {
    Role.COMMISSIONER: ("Commissioners",),
    Role.GRANT_OFFICER: ("Grant officers",),
    Role.MONITORING_OFFICER: ("Monitoring officers",),
    Role.CMS_EDITOR: ("Editors", "Moderators", "Directory editors"),
}

# Council staff roles see other people's data or publish content: each must
# sign in with a second factor.
STAFF_ROLES = frozenset(
    {
        Role.COMMISSIONER,
        Role.GRANT_OFFICER,
        Role.MONITORING_OFFICER,
        Role.CMS_EDITOR,
        Role.ADMINISTRATOR,
    }
)
