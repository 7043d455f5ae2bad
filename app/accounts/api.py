"""JSON API for accounts: tokens, users, teams, training, and `/me`."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from app.accounts import selectors, service
from app.accounts.auth import API, SignInResult, sign_in, token_issue, token_revoke
from app.accounts.lookups import AccountManager, ManagedTeam, ManagedUser
from app.accounts.schemas import (
    MePublic,
    TeamCreate,
    TeamPublic,
    TeamUpdate,
    TokenPublic,
    TokenRequest,
    TrainingCreate,
    TrainingPublic,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from app.db import MAX_ROW_ID, SessionDep
from app.flows import teams as teams_flow
from app.pagination import MAX_PAGE, MAX_PAGE_SIZE, PageOut
from app.web.auth import CurrentUser, bearer_token

router = APIRouter(tags=["accounts"])

# Row ids are 32-bit integers in the database: a larger number in a path or filter is bad input (422),
# not a query PostgreSQL rejects with a 500.


@router.post("/tokens", response_model=TokenPublic, responses={401: {}, 429: {}})
def token_create(request: Request, session: SessionDep, body: TokenRequest) -> Response:
    """Exchange a username and password for a bearer token (throttled like the sign-in page)."""
    settings = request.app.state.settings
    address = (request.client.host if request.client else "unknown")[:64]
    outcome = sign_in(session, username=body.username, password=body.password, address=address, settings=settings)
    if outcome.result is SignInResult.THROTTLED:
        return JSONResponse(
            {"detail": f"Too many failed attempts; try again in {outcome.retry_after_minutes} minutes"},
            status_code=429,
            headers={"Retry-After": str(outcome.retry_after_minutes * 60)},
        )
    if outcome.result is not SignInResult.OK or outcome.user is None:
        detail = "Account deactivated" if outcome.result is SignInResult.DEACTIVATED else "Wrong username or password"
        return JSONResponse({"detail": detail}, status_code=401)
    raw, token = token_issue(
        session, user=outcome.user, kind=API, lifetime=timedelta(minutes=settings.api_token_lifetime_minutes)
    )
    return JSONResponse(TokenPublic(access_token=raw, expires_at=token.expires_at).model_dump(mode="json"))


@router.delete("/tokens/current", status_code=204)
def token_delete(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """Revoke the token this request was made with."""
    raw = bearer_token(request)
    if raw:
        token_revoke(session, raw=raw)
    return Response(status_code=204)


@router.get("/me", response_model=MePublic)
def me(request: Request, session: SessionDep, user: CurrentUser) -> MePublic:
    records = selectors.training_for_user(session, user_id=user.id)
    public = selectors.user_public(user)
    return MePublic(
        **public.model_dump(), training=selectors.training_status(records, today=request.app.state.settings.today())
    )


@router.get("/users", response_model=PageOut[UserPublic])
def users_list(
    session: SessionDep,
    _: AccountManager,
    q: str | None = None,
    role: str | None = None,
    team_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    active: bool | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> PageOut[UserPublic]:
    result = selectors.users_page(
        session, q=q, role=role, team_id=team_id, active=active, page=page, page_size=page_size
    )
    return PageOut(
        items=[selectors.user_public(u) for u in result.items],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )


@router.post("/users", response_model=UserPublic, status_code=201)
def user_create(session: SessionDep, actor: AccountManager, body: UserCreate) -> UserPublic:
    return selectors.user_public(service.user_create(session, data=body, actor=actor))


@router.get("/users/{user_id}", response_model=UserPublic)
def user_get(session: SessionDep, _: AccountManager, user: ManagedUser) -> UserPublic:
    return selectors.user_public(user)


@router.patch("/users/{user_id}", response_model=UserPublic)
def user_update(session: SessionDep, actor: AccountManager, user: ManagedUser, body: UserUpdate) -> UserPublic:
    """Change fields; send the `version` you read. `active: false` deactivates and revokes every token."""
    return selectors.user_public(service.user_update(session, user=user, data=body, actor=actor))


@router.get("/users/{user_id}/training", response_model=list[TrainingPublic])
def training_list(request: Request, session: SessionDep, _: AccountManager, user: ManagedUser) -> list[TrainingPublic]:
    today = request.app.state.settings.today()
    return [selectors.training_public(r, today=today) for r in selectors.training_for_user(session, user_id=user.id)]


@router.post("/users/{user_id}/training", response_model=TrainingPublic, status_code=201)
def training_create(
    request: Request, session: SessionDep, actor: AccountManager, user: ManagedUser, body: TrainingCreate
) -> TrainingPublic:
    record = service.training_record_add(session, user=user, data=body, actor=actor)
    return selectors.training_public(record, today=request.app.state.settings.today())


@router.get("/teams", response_model=list[TeamPublic])
def teams_list(session: SessionDep, _: CurrentUser) -> list[TeamPublic]:
    return [selectors.team_public(t) for t in selectors.teams_list(session)]


@router.post("/teams", response_model=TeamPublic, status_code=201)
def team_create(session: SessionDep, actor: AccountManager, body: TeamCreate) -> TeamPublic:
    return selectors.team_public(service.team_create(session, data=body, actor=actor))


@router.patch("/teams/{team_id}", response_model=TeamPublic, responses={404: {"description": "No such team"}})
def team_update(session: SessionDep, actor: AccountManager, team: ManagedTeam, body: TeamUpdate) -> TeamPublic:
    return selectors.team_public(teams_flow.team_change(session, team=team, data=body, actor=actor))
