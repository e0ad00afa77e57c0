"""A web address typed without a scheme is read as https:// in every form built from the models."""

import warnings

from django import forms

from marketplace.providers.models import Organisation, Service


def test_a_model_form_reads_a_bare_address_as_https():
    with warnings.catch_warnings():
        # Django 5.2 warns when a URL form field leaves the scheme to its default.
        warnings.simplefilter("error")
        form_class = forms.modelform_factory(Organisation, fields=["website"])
    form = form_class(data={"website": "finchleycare.example.org"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["website"] == "https://finchleycare.example.org"


def test_services_too_and_an_explicit_scheme_is_kept():
    form_class = forms.modelform_factory(Service, fields=["website"])
    form = form_class(data={"website": "http://lunchclub.example.org/menu"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["website"] == "http://lunchclub.example.org/menu"
