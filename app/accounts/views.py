"""HTML pages: sign in and out, your account, and the QA lead's users, teams and training records."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.accounts import selectors, service
from app.accounts.auth import SESSION, SignInResult, sign_in, token_digest, token_issue, token_revoke
from app.accounts.filters import UserListFilter
from app.accounts.lookups import AccountManager, ManagedTeam, ManagedUser
from app.accounts.models import User
from app.accounts.passwords import MIN_PASSWORD_LENGTH, password_verify
from app.accounts.roles import ROLE_HINTS, Agency, Role, TrainingKind
from app.accounts.schemas import (
    AGREEMENT,
    LoginForm,
    PasswordChangeForm,
    TeamCreate,
    TeamUpdateForm,
    TrainingCreate,
    UserCreateForm,
    UserUpdate,
    UserUpdateForm,
    date_form_values,
    normalise_username,
    partner_edit_values,
)
from app.accounts.sso import oidc
from app.audit_trail.service import audit_record
from app.config import Settings
from app.db import SessionDep
from app.errors import Conflict, ValidationFailed
from app.flows import teams as teams_flow
from app.web.auth import SESSION_COOKIE, CurrentUser, OptionalUser
from app.web.csrf import CSRF_COOKIE, new_nonce
from app.web.errors import refusal_page
from app.web.forms import (
    STALE_VERSION,
    FormDep,
    attempt,
    form_data,
    posted_version,
    see_other,
    validate,
)
from app.web.templating import render, render_list

router = APIRouter(tags=["accounts (HTML)"])


def _client_address(request: Request) -> str:
    return (request.client.host if request.client else "unknown")[:64]


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a signed-in user to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


# --- Sign in and out -------------------------------------------------------------------------


def _login_context(
    request: Request, *, next_url: str, values: dict[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    """The sign-in page: single sign-on buttons when configured; with SSO_ONLY, the password form only on the
    discreet break-glass link (?local=1) or after a password was posted."""
    settings = request.app.state.settings
    providers = oidc.configured_providers(settings)
    local = request.query_params.get("local") == "1" or request.method == "POST"
    return {
        "next": next_url,
        "values": values,
        "errors": errors,
        "sso_buttons": [
            {"text": client.button_text, "href": f"/auth/oidc/login?{urlencode({'provider': name, 'next': next_url})}"}
            for name, client in providers.items()
        ],
        "sso_only": settings.sso_only,
        "show_password_form": not settings.sso_only or local,
        "local_href": f"/login?{urlencode({'local': '1', 'next': next_url})}",
        # Partners sign in with a password while no partners' provider is configured (_password_allowed).
        "local_text": "Break-glass sign-in"
        if oidc.PARTNER in providers
        else "Sign in with a password (partner agencies and break-glass accounts)",
    }


@router.get("/login")
def login_form(request: Request, user: OptionalUser, next: str | None = None) -> Response:
    if user is not None:
        return see_other(_safe_next(next))
    return render(
        request, "accounts/login.html", _login_context(request, next_url=_safe_next(next), values={}, errors={})
    )


def _password_allowed(session: SessionDep, settings: Settings, username: str) -> bool:
    """With SSO_ONLY, passwords are for the break-glass accounts only, and for partner agencies' accounts while
    no partners' provider is configured (they have no council account to sign in with)."""
    if not settings.sso_only:
        return True
    name = normalise_username(username)
    if name in settings.break_glass:
        return True
    if oidc.PARTNER in oidc.configured_providers(settings):
        return False
    user = selectors.user_by_username(session, username=name) if name else None
    return user is not None and user.agency is not None


def signed_in_response(request: Request, session: SessionDep, user: User, next_url: str) -> Response:
    """A new browser session for `user` (password or single sign-on), and the redirect to where they were going."""
    settings = request.app.state.settings
    raw, _ = token_issue(
        session,
        user=user,
        kind=SESSION,
        lifetime=timedelta(minutes=settings.session_lifetime_minutes),
    )
    response = see_other(next_url)
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=settings.session_lifetime_minutes * 60,
        path="/",
    )
    # A new CSRF nonce with the new session: nothing from before sign-in can be replayed after it.
    response.set_cookie(
        CSRF_COOKIE, new_nonce(), httponly=True, samesite="lax", secure=settings.secure_cookies, path="/"
    )
    return response


@router.post("/login")
def login_submit(request: Request, session: SessionDep, form: FormDep) -> Response:
    settings = request.app.state.settings
    values = form_data(form, LoginForm)
    data, errors = validate(LoginForm, values)
    next_url = _safe_next(values["next"])
    status = 400
    if data is not None and not _password_allowed(session, settings, data.username):
        # Checked before the password, so a refusal says nothing about it.
        audit_record(
            session,
            actor=None,
            actor_label=normalise_username(data.username)[:80] or "anonymous",
            action="auth.login_failed",
            summary="Sign-in refused: passwords are switched off (single sign-on only)",
            entity_type="user",
            entity_id=None,
        )
        errors["username"] = (
            "Passwords are switched off: sign in with your council account instead. "
            "Only break-glass accounts may sign in with a password."
        )
        status = 403
    elif data is not None:
        outcome = sign_in(
            session, username=data.username, password=data.password, address=_client_address(request), settings=settings
        )
        if outcome.result is SignInResult.OK and outcome.user is not None:
            return signed_in_response(request, session, outcome.user, next_url)
        if outcome.result is SignInResult.THROTTLED:
            status = 429
            errors["username"] = (
                "Too many failed sign-in attempts. Wait "
                f"{outcome.retry_after_minutes} minute{'s' if outcome.retry_after_minutes != 1 else ''} "
                "and try again, or ask your QA lead to reset your password."
            )
        elif outcome.result is SignInResult.DEACTIVATED:
            errors["username"] = "Your account has been deactivated. Contact your QA lead."
        else:
            errors["username"] = "Enter a correct username and password"
    return render(
        request,
        "accounts/login.html",
        _login_context(request, next_url=next_url, values={"username": values["username"]}, errors=errors),
        status_code=status,
    )


def _provider_sign_out(request: Request) -> str | None:
    """The provider's end-session address (RP-initiated logout) when this browser signed in by single sign-on."""
    settings = request.app.state.settings
    return oidc.end_session_url(settings, oidc.SsoSession.from_cookie(settings, request.cookies.get(oidc.SSO_COOKIE)))


@router.get("/logout")
def logout_form(request: Request, user: OptionalUser) -> Response:
    if user is None:
        return see_other("/login")
    end_session = _provider_sign_out(request)
    if end_session:
        # The sign-out form's redirect goes on to the provider: the page's CSP form-action must allow it.
        request.state.form_action_origins = [oidc.origin_of(end_session)]
    return render(request, "accounts/logout.html")


@router.post("/logout")
def logout_submit(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        token_revoke(session, raw=raw)
    if user is not None:
        audit_record(
            session, actor=user, action="auth.logout", summary="Signed out", entity_type="user", entity_id=user.id
        )
    # Signed in by single sign-on: on to the provider, to end the session there too; it sends the browser back.
    response = see_other(_provider_sign_out(request) or oidc.SIGNED_OUT_PATH)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(oidc.SSO_COOKIE, path="/")
    return response


# --- Your account ----------------------------------------------------------------------------


@router.get("/account")
def account_page(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    return render(request, "accounts/account.html", _account_context(request, session, user, errors={}))


def _account_context(
    request: Request, session: SessionDep, user: User, *, errors: dict[str, str], changed: bool = False
) -> dict[str, Any]:
    records = selectors.training_for_user(session, user_id=user.id)
    return {
        "user": user,
        "training": selectors.training_status(records, today=request.app.state.settings.today()),
        "errors": errors,
        "changed": changed,
        "min_password_length": MIN_PASSWORD_LENGTH,
    }


@router.post("/account/password")
def account_password(request: Request, session: SessionDep, user: CurrentUser, form: FormDep) -> Response:
    values = form_data(form, PasswordChangeForm)
    data, problems = validate(PasswordChangeForm, values)
    errors: dict[str, str] = {}
    if not password_verify(values["current_password"], user.password_hash)[0]:
        errors["current_password"] = "Your current password is not correct"
    errors.update(problems)
    if errors or data is None:
        return render(
            request, "accounts/account.html", _account_context(request, session, user, errors=errors), status_code=400
        )
    raw = request.cookies.get(SESSION_COOKIE)
    service.password_change(
        session, user=user, new_password=data.new_password, keep_token_hash=token_digest(raw) if raw else None
    )
    return render(request, "accounts/account.html", _account_context(request, session, user, errors={}, changed=True))


# --- Users (QA lead) -------------------------------------------------------------------------


@router.get("/users")
def users_list(request: Request, session: SessionDep, _: AccountManager, page: int = 1) -> Response:
    flt, _errors = UserListFilter.from_params(request.query_params)
    result = selectors.users_page(
        session,
        q=flt.q,
        role=flt.role,
        team_id=flt.team_id,
        active=flt.active,
        page=page,
        page_size=25,
        clamp_to_last=True,
    )
    return render_list(
        request,
        "accounts/users.html",
        {
            "filters": flt.query(),
            "teams": selectors.teams_list(session),
            "roles": list(Role),
        },
        result=result,
        params=flt.query(),
    )


def _user_form_context(session: SessionDep, *, user: User | None = None, **extra: Any) -> dict[str, Any]:
    # Deactivated teams are not offered, except the user's own: otherwise saving the form would drop it.
    teams = [t for t in selectors.teams_list(session) if t.active or (user is not None and t.id == user.team_id)]
    return {
        "user": user,
        "roles": list(Role),
        "role_hints": ROLE_HINTS,
        "agencies": list(Agency),
        "teams": teams,
        "service_areas": selectors.service_areas_list(session),
        "min_password_length": MIN_PASSWORD_LENGTH,
        **extra,
    }


@router.get("/users/new")
def user_new(request: Request, session: SessionDep, _: AccountManager) -> Response:
    return render(request, "accounts/user_form.html", _user_form_context(session, values={"roles": []}, errors={}))


@router.post("/users/new")
def user_create(request: Request, session: SessionDep, actor: AccountManager, form: FormDep) -> Response:
    values = form_data(form, UserCreateForm) | date_form_values(form, AGREEMENT)
    data, errors = validate(UserCreateForm, values)
    values.pop("password", None)  # never sent back to the browser
    if data is not None:
        outcome = attempt(session, lambda: service.user_create(session, data=data, actor=actor))
        if isinstance(outcome, Conflict):
            return refusal_page(request, outcome)
        if not isinstance(outcome, ValidationFailed):
            return see_other(f"/users/{outcome.id}?created=1")
        errors = outcome.errors
    return render(
        request, "accounts/user_form.html", _user_form_context(session, values=values, errors=errors), status_code=400
    )


@router.get("/users/{user_id}")
def user_detail(request: Request, session: SessionDep, _: AccountManager, user: ManagedUser) -> Response:
    records = selectors.training_for_user(session, user_id=user.id)
    today = request.app.state.settings.today()
    return render(
        request,
        "accounts/user_detail.html",
        {
            "user": user,
            "records": records,
            "today": today,
            "training": selectors.training_status(records, today=today),
            "flash": request.query_params,
        },
    )


@router.get("/users/{user_id}/edit")
def user_edit(request: Request, session: SessionDep, _: AccountManager, user: ManagedUser) -> Response:
    values = {
        "full_name": user.full_name,
        "email": user.email or "",
        "roles": sorted(user.roles),
        "team_id": str(user.team_id or ""),
        "service_area": user.service_area.name if user.service_area else "",
        "version": user.version,
        **partner_edit_values(user),
    }
    return render(request, "accounts/user_form.html", _user_form_context(session, user=user, values=values, errors={}))


@router.post("/users/{user_id}/edit")
def user_update(
    request: Request, session: SessionDep, actor: AccountManager, user: ManagedUser, form: FormDep
) -> Response:
    values = form_data(form, UserUpdateForm) | date_form_values(form, AGREEMENT)
    data, errors = validate(UserUpdateForm, values)
    values.pop("password", None)  # never sent back to the browser
    conflict = None
    if data is not None:
        outcome = attempt(session, lambda: service.user_update(session, user=user, data=data, actor=actor))
        if isinstance(outcome, ValidationFailed):
            errors = outcome.errors
        elif isinstance(outcome, Conflict):
            conflict = outcome.message
        else:
            return see_other(f"/users/{user.id}?updated=1")
    status = 409 if conflict else 400
    if conflict:
        values["version"] = user.version
    return render(
        request,
        "accounts/user_form.html",
        _user_form_context(session, user=user, values=values, errors=errors, conflict=conflict),
        status_code=status,
    )


@router.get("/users/{user_id}/status")
def user_status_confirm(request: Request, session: SessionDep, _: AccountManager, user: ManagedUser) -> Response:
    return render(request, "accounts/user_status.html", {"user": user, "errors": {}})


@router.post("/users/{user_id}/status")
def user_status_change(
    request: Request, session: SessionDep, actor: AccountManager, user: ManagedUser, form: FormDep
) -> Response:
    data = UserUpdate(version=posted_version(form) or STALE_VERSION, active=not user.active)
    outcome = attempt(session, lambda: service.user_update(session, user=user, data=data, actor=actor))
    if isinstance(outcome, Conflict):
        return refusal_page(request, outcome)  # a stale page: the error page says someone else changed the user first
    if isinstance(outcome, ValidationFailed):
        return render(request, "accounts/user_status.html", {"user": user, "errors": outcome.errors}, status_code=400)
    return see_other(f"/users/{user.id}?{'reactivated' if user.active else 'deactivated'}=1")


@router.get("/users/{user_id}/training/new")
def training_new(request: Request, session: SessionDep, _: AccountManager, user: ManagedUser) -> Response:
    return render(
        request, "accounts/training_form.html", {"user": user, "kinds": list(TrainingKind), "values": {}, "errors": {}}
    )


@router.post("/users/{user_id}/training/new")
def training_create(
    request: Request, session: SessionDep, actor: AccountManager, user: ManagedUser, form: FormDep
) -> Response:
    values = form_data(form, TrainingCreate) | date_form_values(form, "completed_on", "expires_on")
    data, errors = validate(TrainingCreate, values)
    if data is not None:
        service.training_record_add(session, user=user, data=data, actor=actor)
        return see_other(f"/users/{user.id}?trained=1")
    return render(
        request,
        "accounts/training_form.html",
        {"user": user, "kinds": list(TrainingKind), "values": values, "errors": errors},
        status_code=400,
    )


# --- Teams (QA lead) -------------------------------------------------------------------------


def _teams_context(session: SessionDep, **extra: Any) -> dict[str, Any]:
    return {
        "teams": selectors.teams_list(session),
        "counts": selectors.team_member_counts(session),
        "service_areas": selectors.service_areas_list(session),
        **extra,
    }


@router.get("/teams")
def teams_list(request: Request, session: SessionDep, _: AccountManager) -> Response:
    return render(
        request, "accounts/teams.html", _teams_context(session, values={}, errors={}, flash=request.query_params)
    )


@router.post("/teams")
def team_create(request: Request, session: SessionDep, actor: AccountManager, form: FormDep) -> Response:
    values = form_data(form, TeamCreate)
    data, errors = validate(TeamCreate, values)
    if data is not None:
        outcome = attempt(session, lambda: service.team_create(session, data=data, actor=actor))
        if isinstance(outcome, Conflict):
            return refusal_page(request, outcome)
        if not isinstance(outcome, ValidationFailed):
            return see_other("/teams?created=1")
        errors = outcome.errors
    return render(
        request, "accounts/teams.html", _teams_context(session, values=values, errors=errors, flash={}), status_code=400
    )


@router.get("/teams/{team_id}/edit")
def team_edit(request: Request, session: SessionDep, _: AccountManager, team: ManagedTeam) -> Response:
    values = {
        "name": team.name,
        "service_area": team.service_area.name,
        "version": team.version,
        "active": team.active,
        "manager_id": str(team.manager_id or ""),
    }
    return render(
        request,
        "accounts/team_form.html",
        {
            "team": team,
            "values": values,
            "errors": {},
            "service_areas": selectors.service_areas_list(session),
            "managers": selectors.active_users(session),
        },
    )


@router.post("/teams/{team_id}/edit")
def team_update(
    request: Request, session: SessionDep, actor: AccountManager, team: ManagedTeam, form: FormDep
) -> Response:
    values = form_data(form, TeamUpdateForm)
    data, errors = validate(TeamUpdateForm, values)
    conflict = None
    if data is not None:
        outcome = attempt(session, lambda: teams_flow.team_change(session, team=team, data=data, actor=actor))
        if isinstance(outcome, ValidationFailed):
            errors = outcome.errors
        elif isinstance(outcome, Conflict):
            conflict = outcome.message
        else:
            return see_other("/teams?updated=1")
    if conflict:
        values["version"] = team.version
    return render(
        request,
        "accounts/team_form.html",
        {
            "team": team,
            "values": values,
            "errors": errors,
            "conflict": conflict,
            "service_areas": selectors.service_areas_list(session),
            "managers": selectors.active_users(session),
        },
        status_code=409 if conflict else 400,
    )
