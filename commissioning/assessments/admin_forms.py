from django.core.exceptions import ValidationError

from wagtail.admin.forms import WagtailAdminModelForm


class FrameworkVersionAdminForm(WagtailAdminModelForm):
    """Refuses edits to a version providers have used, with a plain message, before the
    model-level guard would."""

    def clean(self):
        data = super().clean()
        if self.instance.pk and self.instance.is_frozen and data.get("status") != "retired":
            raise ValidationError(
                "This version has been used by providers, so it cannot be changed. "
                "Create a new version instead, or retire this one."
            )
        return data
