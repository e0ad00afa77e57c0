from django import forms

from cms.forms import GovukDateField

from .models import WEAK_RATING, Rating, SectionOutcome, Statement


class SectionForm(forms.Form):
    """One section's statements: a rating, evidence, and an action for weak ratings.

    ``complete=True`` (Save and continue) asks for an action on every rating of
    1 or 2; saving to come back later keeps whatever has been entered.
    """

    def __init__(self, *args, statements: list[Statement], responses: dict, complete=False, **kw):
        super().__init__(*args, **kw)
        self.statements = statements
        self.complete = complete
        for statement in statements:
            response = responses.get(statement.pk)
            prefix = f"s{statement.pk}"
            self.fields[f"{prefix}_rating"] = forms.TypedChoiceField(
                label=f"{statement.code}. {statement.text}",
                help_text=statement.guidance,
                choices=[(str(v), f"{v} – {label}") for v, label in Rating.choices],
                coerce=int,
                empty_value=None,
                widget=forms.RadioSelect,
                required=False,
                initial=response.rating if response else None,
            )
            self.fields[f"{prefix}_evidence"] = forms.CharField(
                label=f"Evidence for {statement.code}",
                help_text="What shows this is true? For example, feedback, plans or records.",
                widget=forms.Textarea(attrs={"rows": 3}),
                required=False,
                initial=response.evidence if response else "",
            )
            self.fields[f"{prefix}_action_what"] = forms.CharField(
                label=f"Action for {statement.code}: what you will do",
                widget=forms.Textarea(attrs={"rows": 2}),
                required=False,
                initial=response.action_what if response else "",
            )
            self.fields[f"{prefix}_action_who"] = forms.CharField(
                label=f"Action for {statement.code}: who will do it",
                max_length=200,
                required=False,
                initial=response.action_who if response else "",
            )
            self.fields[f"{prefix}_action_by"] = GovukDateField(
                label=f"Action for {statement.code}: by when",
                required=False,
                initial=response.action_by if response else None,
            )

    def groups(self):
        """Per statement: the statement and its bound fields, for the template."""
        for statement in self.statements:
            p = f"s{statement.pk}"
            yield {
                "statement": statement,
                "rating": self[f"{p}_rating"],
                "evidence": self[f"{p}_evidence"],
                "action": [
                    self[f"{p}_action_what"],
                    self[f"{p}_action_who"],
                    self[f"{p}_action_by"],
                ],
            }

    def clean(self):
        data = super().clean()
        for statement in self.statements:
            p = f"s{statement.pk}"
            rating = data.get(f"{p}_rating")
            if self.complete and rating is None:
                self.add_error(f"{p}_rating", f"Rate statement {statement.code}.")
            if self.complete and rating is not None and rating <= WEAK_RATING:
                for suffix, what in (
                    ("action_what", "what you will do"),
                    ("action_who", "who will do it"),
                    ("action_by", "by when"),
                ):
                    if not data.get(f"{p}_{suffix}") and f"{p}_{suffix}" not in self.errors:
                        self.add_error(
                            f"{p}_{suffix}",
                            f"A rating of {rating} needs an action: say {what} for {statement.code}.",
                        )
        return data

    def answers(self) -> dict[int, dict]:
        data = self.cleaned_data
        return {
            s.pk: {
                "rating": data.get(f"s{s.pk}_rating"),
                "evidence": data.get(f"s{s.pk}_evidence", ""),
                "action_what": data.get(f"s{s.pk}_action_what", ""),
                "action_who": data.get(f"s{s.pk}_action_who", ""),
                "action_by": data.get(f"s{s.pk}_action_by"),
            }
            for s in self.statements
        }


class EvidenceForm(forms.Form):
    title = forms.CharField(label="What is this evidence?", max_length=200)
    file = forms.FileField(
        label="File", help_text="PDF, Word, text or a picture. Smaller than 10 MB."
    )


class ReviewForm(forms.Form):
    """Per section: agree or return, with a comment (required when returning)."""

    def __init__(self, *args, sections, **kw):
        super().__init__(*args, **kw)
        self.sections = sections
        for section in sections:
            self.fields[f"{section.value}_outcome"] = forms.ChoiceField(
                label=f"{section.label}",
                choices=SectionOutcome.choices,
                widget=forms.RadioSelect,
                initial=SectionOutcome.AGREED,
            )
            self.fields[f"{section.value}_comment"] = forms.CharField(
                label=f"Comment on ‘{section.label}’",
                widget=forms.Textarea(attrs={"rows": 3}),
                required=False,
            )

    def clean(self):
        data = super().clean()
        for section in self.sections:
            if (
                data.get(f"{section.value}_outcome") == SectionOutcome.RETURNED
                and not data.get(f"{section.value}_comment", "").strip()
            ):
                self.add_error(
                    f"{section.value}_comment", f"Say why you are returning ‘{section.label}’."
                )
        return data

    def outcomes(self) -> dict:
        return {
            s: (self.cleaned_data[f"{s.value}_outcome"], self.cleaned_data[f"{s.value}_comment"])
            for s in self.sections
        }


class StartForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label="Which organisation is this assessment for?", queryset=None, widget=forms.RadioSelect
    )

    def __init__(self, *args, organisations, **kw):
        super().__init__(*args, **kw)
        self.fields["organisation"].queryset = organisations
