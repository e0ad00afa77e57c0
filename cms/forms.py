"""GOV.UK Design System form rendering for every Django form on the site.

``{{ form }}`` renders through templates/govuk/: labels, hints, error messages
and inputs carry the GOV.UK classes, so forms work without JavaScript and read
well with a screen reader.
"""

from datetime import date

from django import forms
from django.forms.renderers import TemplatesSetting


class GovukFormRenderer(TemplatesSetting):
    form_template_name = "govuk/form.html"
    field_template_name = "govuk/field.html"


class GovukDateWidget(forms.MultiWidget):
    """The GOV.UK date input: day, month and year boxes."""

    template_name = "govuk/widgets/date.html"

    def __init__(self, attrs=None):
        widgets = {
            "day": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 2}),
            "month": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 2}),
            "year": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 4}),
        }
        super().__init__(widgets, attrs)

    def decompress(self, value):
        if isinstance(value, date):
            return [value.day, value.month, value.year]
        return [None, None, None]


class GovukDateField(forms.MultiValueField):
    widget = GovukDateWidget

    def __init__(self, **kwargs):
        fields = (
            forms.IntegerField(min_value=1, max_value=31),
            forms.IntegerField(min_value=1, max_value=12),
            forms.IntegerField(min_value=1900, max_value=2100),
        )
        super().__init__(fields=fields, require_all_fields=False, **kwargs)
        self.error_messages.setdefault("invalid_date", "Enter a real date, for example 27 3 2026.")

    def clean(self, value):
        if isinstance(value, list | tuple) and not any(str(v or "").strip() for v in value):
            if self.required:
                raise forms.ValidationError(f"Enter the {self.label.lower()} date.")
            return None
        if isinstance(value, list | tuple) and not all(str(v or "").strip() for v in value):
            raise forms.ValidationError("The date must include a day, month and year.")
        return super().clean(value)

    def compress(self, data_list):
        if not data_list:
            return None
        day, month, year = data_list
        try:
            return date(year, month, day)
        except (TypeError, ValueError):
            raise forms.ValidationError(
                "Enter a real date, for example 27 3 2026.", code="invalid_date"
            ) from None
