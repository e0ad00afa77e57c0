"""Role checks for views. Every view that is not public uses one of these."""

from functools import wraps

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied

from .roles import Role


class RoleRequiredMixin(LoginRequiredMixin):
    """Signed-in people holding at least one of ``required_roles``; others get 403."""

    required_roles: tuple[Role, ...] = ()

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.required_roles and not request.user.has_role(*self.required_roles):
            raise PermissionDenied("Your account does not have access to this page.")
        return super().dispatch(request, *args, **kwargs)


def role_required(*roles: Role):
    """The function-view form of RoleRequiredMixin."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            if roles and not request.user.has_role(*roles):
                raise PermissionDenied("Your account does not have access to this page.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
