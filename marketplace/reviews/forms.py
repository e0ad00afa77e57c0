from django import forms

from marketplace.accounts.models import BudgetHolder

from .models import ReportReason, WithholdReason

STAR_CHOICES = [
    (5, "5 stars: excellent"),
    (4, "4 stars: good"),
    (3, "3 stars: all right"),
    (2, "2 stars: poor"),
    (1, "1 star: very poor"),
]


def star_field(label: str, help_text: str = "") -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        help_text=help_text,
        choices=STAR_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": f"Choose a rating for '{label.lower()}'."},
    )


class ReviewForm(forms.Form):
    budget_holder = forms.TypedChoiceField(
        label="Who are you writing this review for?",
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose who you are writing the review for."},
    )
    service = forms.TypedChoiceField(
        label="Which service is your review about?",
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.RadioSelect,
    )
    rating = star_field("Overall, how would you rate this provider?")
    dignity = star_field("Treated with dignity and respect")
    reliability = star_field("Reliable and on time")
    choice = star_field("Listens and gives me choice")
    value = star_field("Value for money")
    title = forms.CharField(
        label="Give your review a title",
        max_length=120,
        help_text="For example, 'Kind carers but often late'.",
        error_messages={"required": "Enter a title for your review."},
    )
    body = forms.CharField(
        label="Tell us what happened",
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=5000,
        help_text=(
            "What went well and what could be better. Please do not include names, phone "
            "numbers or addresses: we remove them before your review is published."
        ),
        error_messages={"required": "Tell us about your experience of this provider."},
    )

    def __init__(self, *args, people: list[BudgetHolder], user, services=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.services = {service.pk: service for service in services}
        if len(self.services) > 1:
            self.fields["service"].choices = [
                (service.pk, service.name) for service in services
            ] + [("", "More than one, or not sure")]
        else:
            del self.fields["service"]
        self.people = {person.pk: person for person in people}
        field = self.fields["budget_holder"]
        field.choices = [
            (person.pk, "Myself" if person.user_id == user.pk else person.full_name)
            for person in people
        ]
        if len(people) == 1:
            field.widget = forms.HiddenInput()
            field.initial = people[0].pk

    def clean_service(self):
        pk = self.cleaned_data.get("service")
        return self.services.get(pk) if pk else None

    def clean_budget_holder(self) -> BudgetHolder:
        return self.people[self.cleaned_data["budget_holder"]]


class ApproveForm(forms.Form):
    public_title = forms.CharField(label="Title to publish", max_length=120)
    public_body = forms.CharField(
        label="Review to publish",
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=(
            "Replace names, phone numbers, email addresses and addresses with a marker such "
            "as [name removed]. Do not change anything else: criticism stays in."
        ),
    )


class WithholdForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why must this review be withheld?",
        choices=WithholdReason.choices,
        widget=forms.RadioSelect,
        help_text="Being negative or critical is not a reason to withhold a review.",
        error_messages={"required": "Choose why the review is being withheld."},
    )
    note = forms.CharField(
        label="Note for the moderation record",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Which part of the review, so another moderator can check the decision.",
    )


class ResolveReportForm(forms.Form):
    decision = forms.ChoiceField(
        label="What should happen to this review?",
        choices=[("keep", "Keep it published"), ("withhold", "Withhold it")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether to keep or withhold the review."},
    )
    reason = forms.ChoiceField(
        label="If withholding, why?",
        choices=WithholdReason.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    note = forms.CharField(
        label="Note for the moderation record",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "withhold" and not data.get("reason"):
            self.add_error(
                "reason", "Choose why the review is being withheld from the listed reasons."
            )
        return data


class ReplyForm(forms.Form):
    text = forms.CharField(
        label="Your public reply",
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Shown under the review. Do not include anyone's personal details.",
        error_messages={"required": "Enter your reply."},
    )


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why are you reporting this review?",
        choices=ReportReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose why you are reporting this review."},
    )
    details = forms.CharField(
        label="Tell us more",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
