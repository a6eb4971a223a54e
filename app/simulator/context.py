"""What a controller sees: the caller, the merged input and the checks every endpoint shares."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import Request

from .accounts import has
from .responses import ApiError
from .state import SimulatorConfig, SimulatorState

NO_ABILITY = "Sorry, but you do not have permissions to access this page."
NO_API_PERMISSION = "You do not have permission to access API"
UNAUTHORIZED = "This action is unauthorized."
BAD_CREDENTIALS = "These credentials do not match our records."

MODEL_CLASSES = {"group": "ContactGroups", "contact": "Contacts", "report": "Reports"}


def model_not_found(kind: str, uid: str) -> str:
    return f"No query results for model [App\\Models\\{MODEL_CLASSES[kind]}] {uid}"


def attribute_name(key: str) -> str:
    """Laravel's validation attribute: snake case to words; upper-case tags split per letter."""
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()
    return snake.replace("_", " ")


@dataclass
class Ctx:
    state: SimulatorState
    config: SimulatorConfig
    request: Request
    family: str
    route_name: str = ""
    params: dict[str, str] = field(default_factory=dict)
    bound: dict[str, dict[str, Any]] = field(default_factory=dict)
    input: dict[str, Any] = field(default_factory=dict)
    user: dict[str, Any] | None = None

    @property
    def modern(self) -> bool:
        return self.config.profile == "modern"

    @property
    def v3(self) -> bool:
        return self.family == "v3"

    def get(self, key: str) -> Any:
        return self.input.get(key)

    def quirk(self, name: str) -> bool:
        return self.config.quirk(name)

    def public_url(self) -> str:
        """Paginator `path`: the request URL without its query string."""
        base = self.config.public_base_url or self.request.host_url
        return base.rstrip("/") + self.request.path

    # -- authentication (http family: inside the controller) ---------------------------
    def presented_token(self) -> str | None:
        """The credential the caller presented for this family (also used by the request log)."""
        bearer = bearer_token(self.request)
        if self.v3:
            return bearer
        token = self.input.get("api_token")
        if token is None and self.config.http_accepts_bearer:
            token = bearer
        return token if isinstance(token, str) else None

    def http_user(self) -> dict[str, Any]:
        """ApiHTTP controllers look the token up themselves (reference §1.4)."""
        if self.user is not None:
            return self.user
        token = self.presented_token()
        account = self.state.account_by_token(token)
        if (
            account is None
            and token is None
            and self.quirk("quirk_missing_token_matches_null_user")
        ):
            # WHERE api_token IS NULL: stands in for "the first user who never made a token".
            account = next(iter(self.state.data["accounts"]), None)
        if account is None:
            raise ApiError(BAD_CREDENTIALS)
        self.user = account
        return account

    def caller(self) -> dict[str, Any]:
        return self.user if self.v3 else self.http_user()

    # -- authorisation -------------------------------------------------------------------
    def require_developers(self, message: str = NO_API_PERMISSION) -> None:
        """M checks the `developers` permission on every endpoint of both families."""
        if self.modern and not has(self.caller(), "permissions", "developers"):
            raise ApiError(message, 403)

    def require_ability(self, name: str, kind: str = "abilities") -> None:
        """v3 tokenCan()/can() checks; the http family checks no abilities."""
        if self.v3 and not has(self.caller(), kind, name):
            raise ApiError(NO_ABILITY, 403)

    def authorize_form(self, permission: str) -> None:
        """A v3 form request's authorize(): a validation-style failure, HTTP 200."""
        if self.v3 and not has(self.caller(), "permissions", permission):
            raise ApiError(UNAUTHORIZED)

    # -- validation ----------------------------------------------------------------------
    def fail_validation(self, messages: list[str]) -> None:
        """v3 form requests summarise; hand-built http validation shows the first only."""
        if not messages:
            return
        first = messages[0]
        extra = len(messages) - 1
        if self.v3 and extra:
            first += f" (and {extra} more error{'s' if extra > 1 else ''})"
        raise ApiError(first)

    def required(self, *keys: str) -> None:
        missing = [
            f"The {attribute_name(k)} field is required." for k in keys if self.get(k) is None
        ]
        self.fail_validation(missing)

    # -- ownership -----------------------------------------------------------------------
    def owns(self, obj: dict[str, Any], owner_key: str = "customer_id") -> bool:
        return self.quirk("quirk_unscoped_uids") or obj.get(owner_key) == self.caller()["id"]

    def group(self) -> dict[str, Any]:
        return self._bound_owned("group")

    def contact(self) -> dict[str, Any]:
        return self._bound_owned("contact")

    def _bound_owned(self, kind: str) -> dict[str, Any]:
        """Answer as if another customer's object did not exist (reference §6, §16)."""
        obj = self.bound[kind]
        if not self.owns(obj):
            raise ApiError(model_not_found(kind, obj["uid"]))
        return obj


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None
