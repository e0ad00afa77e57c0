from django import forms

from wagtail.admin.forms import WagtailAdminModelForm


class RoundAdminForm(WagtailAdminModelForm):
    """Development areas as tick boxes rather than raw JSON."""

    def __init__(self, *args, **kwargs):
        from .models import DevelopmentArea

        super().__init__(*args, **kwargs)
        self.fields["development_areas"] = forms.MultipleChoiceField(
            label="Development areas",
            choices=DevelopmentArea.choices,
            widget=forms.CheckboxSelectMultiple,
            required=False,
            help_text="Leave all unticked to fund all four.",
            initial=self.instance.development_areas if self.instance.pk else [],
        )
