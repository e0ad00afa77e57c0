from django import forms

from .statement_schemes import SCHEMES

SCHEME_LABELS = {
    "default": "Standard statement (our default columns)",
    "allpay": "allpay",
    "pfs": "PFS",
    "eml": "EML",
}


class StatementImportForm(forms.Form):
    scheme = forms.ChoiceField(
        label="Card scheme",
        choices=[(name, SCHEME_LABELS.get(name, name)) for name in SCHEMES],
        widget=forms.RadioSelect,
        initial="default",
    )
    statement = forms.FileField(
        label="Statement file",
        help_text="A CSV file exported from the card scheme. Nothing is imported if any line is wrong.",
    )

    def clean_statement(self):
        upload = self.cleaned_data["statement"]
        if not upload.name.lower().endswith(".csv"):
            raise forms.ValidationError("The statement must be a CSV file.")
        if upload.size > 50 * 1024 * 1024:
            raise forms.ValidationError("The statement must be smaller than 50 MB.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise forms.ValidationError(
                "The statement must be a CSV file saved as UTF-8 text."
            ) from error
