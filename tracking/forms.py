"""Tracking forms: a container number or booking reference (signed in), both of them (public)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from intermodal.forms import CodeFormField, InputPolicyForm, container_number_widget


class TrackForm(InputPolicyForm, forms.Form):
    q = forms.CharField(label=_("Container number or booking reference"), max_length=20,
                        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                                      "autocapitalize": "characters", "class": "input-code"}))


class PublicTrackForm(InputPolicyForm, forms.Form):
    container = CodeFormField(label=_("Container number"), max_length=13, widget=container_number_widget())
    booking = forms.CharField(label=_("Booking reference"), max_length=20,
                              widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                                            "autocapitalize": "characters", "class": "input-code"}),
                              help_text=_("As on the booking confirmation, e.g. BK-2026-000123."))
