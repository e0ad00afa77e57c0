from datetime import timedelta

from django import forms
from django.utils import timezone

from cms.forms import GovukDateField
from marketplace.payments.forms import PoundsField

from .models import MonitoringSettings, Outcome


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Add a note", widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )


class EvidenceRequestForm(forms.Form):
    message = forms.CharField(
        label="What do you want to ask?",
        help_text="Use plain words. The person or their proxy sees this on their budget page.",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=3000,
    )
    due_on = GovukDateField(label="Answer by", help_text="For example, 27 3 2026")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["due_on"].initial = timezone.localdate() + timedelta(days=14)

    def clean_due_on(self):
        due_on = self.cleaned_data["due_on"]
        if due_on and due_on < timezone.localdate():
            raise forms.ValidationError("The answer by date must be today or in the future.")
        return due_on


class AnswerForm(forms.Form):
    response = forms.CharField(
        label="Your answer", widget=forms.Textarea(attrs={"rows": 6}), max_length=5000
    )


class ClawbackForm(forms.Form):
    amount_pence = PoundsField(label="How much to recover, in pounds")
    reason = forms.CharField(
        label="Reason", max_length=300, help_text="This appears on the statement."
    )


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the outcome."},
    )
    note = forms.CharField(
        label="Summary of the outcome", widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )


class MonitoringSettingsForm(forms.ModelForm):
    class Meta:
        model = MonitoringSettings
        fields = [
            "surplus_weeks",
            "blocked_attempts_days",
            "blocked_attempts_count",
            "cash_days",
            "dormant_days",
            "round_amount_pence",
            "round_transfers_count",
            "round_transfers_days",
        ]
