"""The bell: how many unread notifications the signed-in person has (one COUNT on an index)."""

from notifications.people import unread_count


def inbox(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(user, "notifications"):
        return {}
    return {"unread_notifications": unread_count(user)}
