from decimal import Decimal

from django import forms

from .models import (
    Application,
    DevelopmentArea,
    MonitoringReport,
    Outcome,
    PaymentMethod,
    Question,
    QuestionKind,
    ReportKind,
    RiskLevel,
)


def pounds_field(label: str, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=Decimal("0"),
        max_digits=12,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "govuk-input--width-10"}),
        error_messages={"invalid": "Enter an amount in pounds, for example 15000."},
        **kwargs,
    )


def to_pence(pounds: Decimal | None) -> int:
    return int((pounds or Decimal(0)) * 100)


class ApplicationForm(forms.Form):
    """The fixed fields of every application, then the round's own questions."""

    title = forms.CharField(label="Project title", max_length=200, required=False)
    development_area = forms.ChoiceField(
        label="Development area", widget=forms.RadioSelect, required=False
    )
    amount_requested = pounds_field("Amount you are asking for, in pounds", required=False)
    summary = forms.CharField(
        label="Project summary",
        help_text="What you will do and who it is for. This is published if you are funded.",
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
    )
    cited_assessment = forms.ModelChoiceField(
        label="Personalisation Impact Assessment",
        help_text="Cite your assessment to show where the project will help you improve.",
        queryset=None,
        required=False,
        empty_label="Do not cite an assessment",
    )

    def __init__(self, *args, application: Application, assessments, **kwargs):
        super().__init__(*args, **kwargs)
        self.application = application
        self.questions: list[Question] = list(application.round.form.questions.all())
        self.fields["development_area"].choices = [
            (a, DevelopmentArea(a).label) for a in application.round.areas
        ]
        self.fields["cited_assessment"].queryset = assessments
        self.fields["cited_assessment"].label_from_instance = lambda a: (
            f"{a.version} – {a.get_status_display()}"
        )
        max_pounds = application.round.max_award_pence // 100
        self.fields["amount_requested"].help_text = f"Up to £{max_pounds:,}."
        for question in self.questions:
            self.fields[f"q_{question.key}"] = self._question_field(question)

    @staticmethod
    def _question_field(question: Question) -> forms.Field:
        common = {"label": question.label, "help_text": question.help_text, "required": False}
        if question.max_words:
            common["help_text"] = (
                f"{question.help_text} No more than {question.max_words} words.".strip()
            )
        if question.kind == QuestionKind.SHORT_TEXT:
            return forms.CharField(max_length=300, **common)
        if question.kind == QuestionKind.NUMBER:
            return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "numeric"}), **common)
        if question.kind == QuestionKind.YES_NO:
            return forms.ChoiceField(
                choices=[("yes", "Yes"), ("no", "No")], widget=forms.RadioSelect, **common
            )
        if question.kind == QuestionKind.CHOICE:
            return forms.ChoiceField(
                choices=[(c, c) for c in question.choice_list], widget=forms.RadioSelect, **common
            )
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), **common)

    @classmethod
    def initial_for(cls, application: Application) -> dict:
        initial = {
            "title": application.title,
            "development_area": application.development_area,
            "amount_requested": (
                Decimal(application.amount_requested_pence) / 100
                if application.amount_requested_pence
                else None
            ),
            "summary": application.summary,
            "cited_assessment": application.cited_assessment_id,
        }
        for key, value in application.answers.items():
            initial[f"q_{key}"] = value
        return initial

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "development_area": data["development_area"] or self.application.development_area,
            "amount_requested_pence": to_pence(data["amount_requested"]),
            "summary": data["summary"],
            "cited_assessment": data["cited_assessment"],
            "answers": {
                q.key: data.get(f"q_{q.key}", "")
                for q in self.questions
                if data.get(f"q_{q.key}", "") != ""
            },
        }


class AttachmentForm(forms.Form):
    title = forms.CharField(label="What is this document?", max_length=200)
    file = forms.FileField(
        label="Document",
        help_text="PDF, Word, OpenDocument, spreadsheet, CSV or text. Smaller than 10 MB.",
    )


class OrganisationChoiceForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label="Which organisation is applying?", queryset=None, widget=forms.RadioSelect
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations


class ConflictForm(forms.Form):
    reason = forms.CharField(
        label="Describe the conflict of interest",
        help_text="For example: you work with, are related to, or advise someone at the applicant.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ScoreForm(forms.Form):
    comments = forms.CharField(
        label="Comments for the panel", widget=forms.Textarea(attrs={"rows": 4}), required=False
    )

    def __init__(self, *args, criteria, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        fields = {}
        for criterion in criteria:
            fields[f"c_{criterion.pk}"] = forms.TypedChoiceField(
                label=f"{criterion.name} (0 to {criterion.max_score})",
                help_text=criterion.guidance,
                choices=[(str(n), str(n)) for n in range(criterion.max_score + 1)],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": f"Give ‘{criterion.name}’ a score."},
            )
        self.fields = {**fields, **self.fields}

    def scores(self) -> dict[int, int]:
        return {c.pk: self.cleaned_data[f"c_{c.pk}"] for c in self.criteria}


class AssignReviewerForm(forms.Form):
    reviewer = forms.ModelChoiceField(label="Reviewer", queryset=None)

    def __init__(self, *args, reviewers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = reviewers


class DeterminationForm(forms.Form):
    outcome = forms.ChoiceField(label="Decision", choices=Outcome.choices, widget=forms.RadioSelect)
    reasons = forms.CharField(
        label="Reasons",
        help_text="The applicant sees these reasons.",
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    amount = pounds_field(
        "Amount awarded, in pounds", required=False, help_text="Only when approving."
    )
    first_tranche = pounds_field(
        "First tranche, in pounds",
        required=False,
        help_text="Leave empty to pay in one tranche. The rest is paid half-way through the year.",
    )

    def clean(self):
        data = super().clean()
        if data.get("outcome") == Outcome.APPROVE and not data.get("amount"):
            self.add_error("amount", "Enter the amount awarded.")
        first, amount = data.get("first_tranche"), data.get("amount")
        if first and amount and first >= amount:
            self.add_error("first_tranche", "The first tranche must be less than the award.")
        return data


class AgreementForm(forms.Form):
    confirm = forms.BooleanField(
        label="I accept this agreement on behalf of my organisation",
        required=True,
        error_messages={"required": "Confirm that you accept the agreement."},
    )
    full_name = forms.CharField(label="Your full name", max_length=200)


class PayTrancheForm(forms.Form):
    method = forms.ChoiceField(
        label="How is this tranche paid?", choices=PaymentMethod.choices, widget=forms.RadioSelect
    )
    reference = forms.CharField(
        label="Bank payment reference",
        required=False,
        help_text="Only for a bank payment.",
        max_length=120,
    )


class ReportForm(forms.ModelForm):
    spend_to_date = pounds_field("Spend to date, in pounds", required=False)

    class Meta:
        model = MonitoringReport
        fields = ["personal_outcomes", "community_impact", "risks", "risk_level", "body"]
        widgets = {
            "personal_outcomes": forms.Textarea(attrs={"rows": 5}),
            "community_impact": forms.Textarea(attrs={"rows": 5}),
            "risks": forms.Textarea(attrs={"rows": 4}),
            "risk_level": forms.RadioSelect,
            "body": forms.Textarea(attrs={"rows": 10}),
        }
        labels = {"risk_level": "Overall risk to the project"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.kind == ReportKind.QUARTERLY:
            del self.fields["body"]
            self.fields["risk_level"].choices = RiskLevel.choices
            self.fields["spend_to_date"].required = False
            self.order_fields(
                ["personal_outcomes", "community_impact", "spend_to_date", "risks", "risk_level"]
            )
        else:
            for name in ("personal_outcomes", "community_impact", "risks", "risk_level"):
                del self.fields[name]
            del self.fields["spend_to_date"]
            self.fields["body"].label = self.instance.get_kind_display()
        for field in self.fields.values():
            field.required = False

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        if "spend_to_date" in data:
            pounds = data.pop("spend_to_date")
            data["spend_to_date_pence"] = None if pounds is None else to_pence(pounds)
        return data
