"""Forms the pages share: the text policy every form has (InputPolicyForm), code fields, sign-in."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from guard import text

# --- The text policy on the pages' forms (guard/text.py) --------------------------------------------------

NUMBER_FIELDS = (forms.IntegerField, forms.DecimalField, forms.FloatField)


def _policy_clean(field: forms.Field, clean):
    """`clean` of a field with the text policy in front of it: what was typed is checked before the field reads it
    (characters in any text, numbers in ASCII digits), the date-time it read after (in range)."""
    multiline = isinstance(field.widget, forms.Textarea)

    def policy_clean(value, *args, **kwargs):
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if not isinstance(item, str):
                continue
            problem = text.text_problem(item.strip(), multiline=multiline)
            if problem:
                raise ValidationError(problem, code="forbidden_character")
            if isinstance(field, NUMBER_FIELDS) and item.strip() and not text.is_ascii_number(item):
                raise ValidationError(text.NUMBER_MESSAGE, code="not_a_number")
        cleaned = clean(value, *args, **kwargs)
        problem = text.datetime_problem(cleaned)
        if problem:
            raise ValidationError(problem, code="out_of_range")
        return cleaned

    return policy_clean


class InputPolicyForm:
    """Every form of the pages has this (tests/security/test_text_policy_pages.py checks that none lacks it): the
    text policy on each of its fields, those a form adds in its __init__ included, with the message on the field.
    Passwords are left as typed: they are compared, never stored or shown."""

    def full_clean(self):
        for field in self.fields.values():
            if not getattr(field, "input_policy", False) and not isinstance(field.widget, forms.PasswordInput):
                field.clean = _policy_clean(field, field.clean)
                field.input_policy = True
        super().full_clean()


class CodeFormField(forms.CharField):
    """A code typed on a page (container number, seal, HS code, USCC, UN number, currency, country): normalised as
    the API's CodeField is (NFKC, upper case, no spaces or hyphens), then ASCII only."""

    default_validators = [text.validate_ascii_code]

    def to_python(self, value):
        return super().to_python(text.normalise_code(value))


class LoginForm(InputPolicyForm, AuthenticationForm):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


def container_number_widget(**attrs) -> forms.TextInput:
    """What a scanner or a person types at a gate: no spelling help, capitals on touch keyboards."""
    return forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false",
                                  "maxlength": "13", "class": "input-code", **attrs})
