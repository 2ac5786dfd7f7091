"""Template context every page needs: the signed-in person's organisation and party kind."""


def party(request):
    user = getattr(request, "user", None)
    organisation = getattr(user, "organisation", None) if user is not None and user.is_authenticated else None
    return {"organisation": organisation, "party_kind": organisation.kind if organisation else None}
