"""Forms for provider self-service. Each one edits an in-memory draft; services.py submits it."""

import re
from decimal import Decimal, InvalidOperation

from django import forms

from .geo import PostcodeError, coordinates_for_postcode, normalise_postcode, postcode_district
from .models import (
    AccessibilityFeature,
    CostOption,
    CostUnit,
    MembershipRole,
    Organisation,
    RegularSchedule,
    Sector,
    ServedGroup,
    Service,
    ServiceAccessibility,
    ServiceArea,
    ServiceCareGroup,
    ServiceLanguage,
    ServiceLocation,
    ServiceStatus,
    Weekday,
)
from .taxonomy import ServiceCategory

PRICE_ROWS = 3


class OrganisationForm(forms.ModelForm):
    sector = forms.ChoiceField(choices=Sector.choices, widget=forms.RadioSelect)

    class Meta:
        model = Organisation
        fields = [
            "name",
            "sector",
            "description",
            "charity_number",
            "company_number",
            "cqc_provider_id",
            "website",
            "email",
            "phone",
        ]
        labels = {"name": "Organisation name", "description": "What your organisation does"}
        help_texts = {
            "charity_number": "If you are a registered charity.",
            "company_number": "If you are a registered company.",
            "cqc_provider_id": "If the Care Quality Commission regulates you.",
        }

    def clean_charity_number(self):
        value = self.cleaned_data["charity_number"].strip()
        if value and not re.fullmatch(r"\d{6,8}(-\d{1,2})?", value):
            raise forms.ValidationError("Enter a charity number like 1123456.")
        return value

    def clean_company_number(self):
        value = self.cleaned_data["company_number"].strip().upper()
        if value and not re.fullmatch(r"([A-Z]{2}\d{6}|\d{8})", value):
            raise forms.ValidationError("Enter a company number like 01234567 or SC123456.")
        return value


class ClaimForm(forms.Form):
    job_title = forms.CharField(label="Your job title", max_length=100)
    evidence = forms.CharField(
        label="How can we check you work there?",
        help_text="For example your work email address or the organisation's phone number.",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
    )


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Their email address")
    role = forms.ChoiceField(
        label="What can they do?",
        choices=[
            (MembershipRole.EDITOR, "Editor: change your organisation's details and services"),
            (MembershipRole.OWNER, "Owner: everything an editor can, and manage the team"),
        ],
        widget=forms.RadioSelect,
        initial=MembershipRole.EDITOR,
    )


class VacanciesForm(forms.Form):
    vacancies = forms.IntegerField(
        label="Places free now",
        min_value=0,
        max_value=10000,
        required=False,
        help_text="Leave empty if you do not want to say.",
    )


def _pounds_to_pence(value: str) -> int:
    cleaned = value.strip().lstrip("£").replace(",", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise forms.ValidationError("Enter a price in pounds, like 22.50.") from None
    if not amount.is_finite():  # "NaN" and "Infinity" parse, but are no price
        raise forms.ValidationError("Enter a price in pounds, like 22.50.")
    if amount < 0 or amount > 100000:
        raise forms.ValidationError("Enter a price between £0 and £100,000.")
    return int((amount * 100).quantize(Decimal("1")))


class ServiceForm(forms.Form):
    """Everything a provider edits about a service, laid out for a page without JavaScript."""

    name = forms.CharField(label="Service name", max_length=200)
    category = forms.ChoiceField(label="Type of service", choices=ServiceCategory.choices)
    description = forms.CharField(
        label="Describe the service",
        help_text="What you do, for whom, and what makes it personal.",
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    status = forms.ChoiceField(
        label="Is it running?",
        choices=[c for c in ServiceStatus.choices if c[0] != ServiceStatus.DEFUNCT],
        widget=forms.RadioSelect,
        initial=ServiceStatus.ACTIVE,
    )
    care_groups = forms.MultipleChoiceField(
        label="Who is it for?",
        choices=ServedGroup.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    minimum_age = forms.IntegerField(
        label="Youngest age", min_value=0, max_value=120, required=False
    )
    maximum_age = forms.IntegerField(label="Oldest age", min_value=0, max_value=120, required=False)
    areas = forms.CharField(
        label="Postcode districts you cover",
        help_text="Separate them with commas, for example N3, N12, NW4.",
        max_length=300,
        required=False,
    )
    accepts_prepayment_card = forms.BooleanField(
        label="We take the prepayment card", required=False
    )
    accepts_marketplace_payment = forms.BooleanField(
        label="We take payment through this site", required=False
    )
    accepts_invoice = forms.BooleanField(label="We can send an invoice", required=False)
    capacity = forms.IntegerField(
        label="How many people you can support at once", min_value=0, required=False
    )
    languages = forms.CharField(
        label="Languages you can offer the service in",
        help_text="Separate them with commas, for example English, Polish, British Sign Language.",
        max_length=300,
        required=False,
    )
    accessibility = forms.MultipleChoiceField(
        label="Accessibility",
        choices=AccessibilityFeature.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    location_name = forms.CharField(
        label="Where it runs: place name",
        help_text="Leave the address empty if the service comes to people's homes.",
        max_length=200,
        required=False,
    )
    location_address = forms.CharField(label="Address line 1", max_length=200, required=False)
    location_postcode = forms.CharField(label="Postcode", max_length=10, required=False)
    contact_name = forms.CharField(label="Contact name", max_length=120, required=False)
    contact_phone = forms.CharField(label="Contact phone", max_length=40, required=False)
    contact_email = forms.EmailField(label="Contact email", required=False)
    website = forms.URLField(
        label="Web page for this service", required=False, assume_scheme="https"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for number in range(1, PRICE_ROWS + 1):
            self.fields[f"price_{number}_amount"] = forms.CharField(
                label=f"Price {number}: amount in pounds",
                required=number == 1,
                max_length=12,
                help_text="For example 22.50" if number == 1 else "",
            )
            self.fields[f"price_{number}_unit"] = forms.ChoiceField(
                label=f"Price {number}: charged", choices=CostUnit.choices, required=False
            )
            self.fields[f"price_{number}_option"] = forms.CharField(
                label=f"Price {number}: what it is for", max_length=100, required=False
            )
            self.fields[f"price_{number}_basis"] = forms.CharField(
                label=f"Price {number}: how it is charged",
                help_text="For example: minimum 1 hour" if number == 1 else "",
                max_length=200,
                required=False,
            )
        for day in Weekday:
            self.fields[f"opens_{day.value}"] = forms.TimeField(
                label=f"{day.label}: opens",
                required=False,
                help_text="For example 09:00" if day == 0 else "",
            )
            self.fields[f"closes_{day.value}"] = forms.TimeField(
                label=f"{day.label}: closes", required=False
            )

    # Cleaning ---------------------------------------------------------------

    def clean_areas(self):
        districts = []
        for part in re.split(r"[,\s]+", self.cleaned_data["areas"].strip()):
            if not part:
                continue
            try:
                district = postcode_district(part)
                coordinates_for_postcode(district)
            except PostcodeError as error:
                raise forms.ValidationError(str(error)) from None
            if district not in districts:
                districts.append(district)
        return districts

    def clean_languages(self):
        names = [part.strip() for part in self.cleaned_data["languages"].split(",") if part.strip()]
        return list(dict.fromkeys(name[:60] for name in names))

    def clean_location_postcode(self):
        value = self.cleaned_data["location_postcode"].strip()
        if not value:
            return ""
        try:
            postcode = normalise_postcode(value)
            coordinates_for_postcode(postcode)
        except PostcodeError as error:
            raise forms.ValidationError(str(error)) from None
        return postcode

    def clean(self):
        data = super().clean()
        low, high = data.get("minimum_age"), data.get("maximum_age")
        if low is not None and high is not None and high < low:
            self.add_error(
                "maximum_age", "The oldest age must be the same as or more than the youngest age."
            )
        prices = []
        for number in range(1, PRICE_ROWS + 1):
            amount = (data.get(f"price_{number}_amount") or "").strip()
            if not amount:
                continue
            try:
                pence = _pounds_to_pence(amount)
            except forms.ValidationError as error:
                self.add_error(f"price_{number}_amount", error)
                continue
            unit = data.get(f"price_{number}_unit")
            if not unit:
                self.add_error(f"price_{number}_unit", f"Choose how price {number} is charged.")
                continue
            prices.append(
                {
                    "amount_pence": pence,
                    "unit": unit,
                    "option": data.get(f"price_{number}_option", ""),
                    "charging_basis": data.get(f"price_{number}_basis", ""),
                }
            )
        data["prices"] = prices
        schedules = []
        for day in Weekday:
            opens, closes = data.get(f"opens_{day.value}"), data.get(f"closes_{day.value}")
            if opens is None and closes is None:
                continue
            if opens is None or closes is None:
                self.add_error(
                    f"opens_{day.value}",
                    f"Enter both the opening and closing time for {day.label}.",
                )
            elif closes <= opens:
                self.add_error(
                    f"closes_{day.value}",
                    f"{day.label}: the closing time must be after the opening time.",
                )
            else:
                schedules.append({"weekday": day.value, "opens_at": opens, "closes_at": closes})
        data["schedules"] = schedules
        if data.get("location_address") and not data.get("location_postcode"):
            self.add_error(
                "location_postcode", "Enter the postcode of the place where the service runs."
            )
        return data

    # Moving between a draft service and the form ---------------------------

    @classmethod
    def initial_for(cls, service: Service) -> dict:
        initial = {
            field: getattr(service, field)
            for field in [
                "name",
                "category",
                "description",
                "status",
                "minimum_age",
                "maximum_age",
                "accepts_prepayment_card",
                "accepts_marketplace_payment",
                "accepts_invoice",
                "capacity",
                "contact_name",
                "contact_phone",
                "contact_email",
                "website",
            ]
        }
        initial["care_groups"] = [row.care_group for row in service.care_groups.all()]
        initial["accessibility"] = [row.feature for row in service.accessibility.all()]
        initial["areas"] = ", ".join(row.postcode_district for row in service.areas.all())
        initial["languages"] = ", ".join(row.name for row in service.languages.all())
        for number, cost in enumerate(list(service.cost_options.all())[:PRICE_ROWS], start=1):
            initial[f"price_{number}_amount"] = f"{cost.amount_pence / 100:.2f}"
            initial[f"price_{number}_unit"] = cost.unit
            initial[f"price_{number}_option"] = cost.option
            initial[f"price_{number}_basis"] = cost.charging_basis
        for schedule in service.schedules.all():
            initial[f"opens_{schedule.weekday}"] = schedule.opens_at
            initial[f"closes_{schedule.weekday}"] = schedule.closes_at
        location = next(iter(service.locations.all()), None)
        if location is not None:
            initial["location_name"] = location.name
            initial["location_address"] = location.address_1
            initial["location_postcode"] = location.postcode
        return initial

    def apply_to(self, service: Service) -> Service:
        """Copy the answers onto ``service`` (a draft in memory), keeping the ids of rows that stay."""
        data = self.cleaned_data
        for field in [
            "name",
            "category",
            "description",
            "status",
            "minimum_age",
            "maximum_age",
            "accepts_prepayment_card",
            "accepts_marketplace_payment",
            "accepts_invoice",
            "capacity",
            "contact_name",
            "contact_phone",
            "contact_email",
            "website",
        ]:
            setattr(service, field, data[field])

        existing_groups = (
            {row.care_group: row for row in service.care_groups.all()} if service.pk else {}
        )
        service.care_groups = [
            existing_groups.get(group) or ServiceCareGroup(care_group=group)
            for group in data["care_groups"]
        ]
        existing_features = (
            {row.feature: row for row in service.accessibility.all()} if service.pk else {}
        )
        service.accessibility = [
            existing_features.get(feature) or ServiceAccessibility(feature=feature)
            for feature in data["accessibility"]
        ]
        existing_areas = (
            {row.postcode_district: row for row in service.areas.all()} if service.pk else {}
        )
        service.areas = [
            existing_areas.get(district) or ServiceArea(postcode_district=district)
            for district in data["areas"]
        ]
        existing_languages = (
            {row.name.lower(): row for row in service.languages.all()} if service.pk else {}
        )
        service.languages = [
            existing_languages.get(name.lower()) or ServiceLanguage(name=name)
            for name in data["languages"]
        ]
        old_prices = list(service.cost_options.all()) if service.pk else []
        prices = []
        for index, price in enumerate(data["prices"]):
            row = old_prices[index] if index < len(old_prices) else CostOption()
            for field, value in price.items():
                setattr(row, field, value)
            prices.append(row)
        service.cost_options = prices
        old_schedules = {row.weekday: row for row in service.schedules.all()} if service.pk else {}
        schedules = []
        for values in data["schedules"]:
            row = old_schedules.get(values["weekday"]) or RegularSchedule(weekday=values["weekday"])
            row.opens_at, row.closes_at = values["opens_at"], values["closes_at"]
            schedules.append(row)
        service.schedules = schedules
        locations = list(service.locations.all()) if service.pk else []
        if data.get("location_postcode"):
            location = locations[0] if locations else ServiceLocation()
            location.name = data["location_name"] or data["name"]
            location.address_1 = data["location_address"] or ""
            if location.postcode != data["location_postcode"] or location.latitude is None:
                location.postcode = data["location_postcode"]
                location.postcode_district = postcode_district(location.postcode)
                location.latitude, location.longitude = (
                    Decimal(str(coordinate))
                    for coordinate in coordinates_for_postcode(location.postcode)
                )
            service.locations = [location, *locations[1:]]
        else:
            service.locations = locations[1:]
        return service
