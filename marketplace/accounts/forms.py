from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from cms.forms import GovukDateField

from .models import Relationship, User


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages = {
        "invalid_login": "Enter a correct email address and password.",
        "inactive": "This account has been closed. Contact the council to reopen it.",
    }


class CreateAccountForm(forms.ModelForm):
    password = forms.CharField(
        label="Create a password",
        strip=False,
        help_text="At least 12 characters. A short sentence you will remember works well.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email"]
        labels = {"first_name": "First name", "last_name": "Last name"}
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].required = True
        self.fields["last_name"].required = True

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account with this email address already exists. Sign in instead."
            )
        return email

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            candidate = User(
                email=cleaned.get("email", ""), first_name=cleaned.get("first_name", "")
            )
            try:
                password_validation.validate_password(password, candidate)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Security code",
        help_text="The 6-digit code from your authenticator app.",
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
        error_messages={
            "required": "Enter the 6-digit security code.",
            "min_length": "The security code is 6 digits.",
            "max_length": "The security code is 6 digits.",
        },
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].strip()
        if not token.isdigit():
            raise forms.ValidationError("The security code must be 6 numbers.")
        return token


class DelegationForm(forms.Form):
    proxy_email = forms.EmailField(
        label="Email address of the person who will act for you",
        help_text="They need a Social Care Connect account with this address.",
    )
    relationship = forms.ChoiceField(
        label="How do they know you?", choices=Relationship.choices, widget=forms.RadioSelect
    )
    may_pay = forms.BooleanField(label="Pay providers from the budget", required=False)
    may_review = forms.BooleanField(label="Write reviews of providers", required=False)
    may_manage = forms.BooleanField(
        label="Manage the budget and card, and answer the council's questions", required=False
    )
    starts_on = GovukDateField(
        label="From",
        help_text="For example, 27 3 2026. Leave empty to start today.",
        required=False,
    )
    ends_on = GovukDateField(
        label="Until", help_text="Leave empty if there is no end date.", required=False
    )

    def clean_proxy_email(self) -> User:
        email = self.cleaned_data["proxy_email"]
        try:
            return User.objects.get(email__iexact=email, is_active=True)
        except User.DoesNotExist:
            raise forms.ValidationError(
                "There is no account with this email address. Ask them to create one first."
            ) from None


class RevokeDelegationForm(forms.Form):
    reason = forms.CharField(
        label="Why is this ending?", max_length=300, widget=forms.Textarea(attrs={"rows": 3})
    )
