"""The recommendation a route is about, loaded and checked by one of the rules in `app.recommendations.permissions`,
or 404. The pages and the API take the same lookups (and the same role guard), so they answer the same people:

    ReadableRecommendation   may_read_recommendation   its page and API, and every change to it (the change's own
                                                       rule decides whether it is allowed)

`RecommendationUser` is the role guard of every recommendation route but the raising ones (`Raiser`), and
`access_of(request, item)` the facts the lookup decided on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from app.accounts.models import User
from app.db import RowId, SessionDep
from app.recommendations import permissions, scope, selectors
from app.recommendations.models import Recommendation
from app.recommendations.permissions import RAISER_ROLES, RECOMMENDATION_ROLES, RecommendationAccess
from app.web.auth import RoleGuard
from app.web.lookup import not_found

NOT_FOUND = "There is no recommendation {id}, or it is not one you can see."
Rule = Callable[[User, RecommendationAccess], bool]

RecommendationUser = Annotated[User, Depends(RoleGuard(*RECOMMENDATION_ROLES))]
Raiser = Annotated[User, Depends(RoleGuard(*RAISER_ROLES))]


def access_of(request: Request, session: Session, item: Recommendation) -> RecommendationAccess:
    """The facts loaded for this recommendation by its lookup (loaded now if the route did not look it up)."""
    cached = getattr(request.state, "recommendation_access", None)
    if isinstance(cached, RecommendationAccess) and cached.item is item:
        return cached
    access = scope.recommendation_access(session, item)
    request.state.recommendation_access = access
    return access


class RecommendationLookup:
    """Dependency: the recommendation named by the path's `recommendation_id`, if `rule` allows the signed-in user;
    otherwise 404 (never 403: whether a recommendation exists is itself not for everyone to learn). It takes the
    routes' role guard itself, so a user without the role is refused (403) before anything is looked up."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule

    def __call__(
        self, request: Request, recommendation_id: RowId, session: SessionDep, user: RecommendationUser
    ) -> Recommendation:
        item = selectors.recommendation_get(session, recommendation_id=recommendation_id)
        if item is None:
            raise not_found(request, page=NOT_FOUND.format(id=recommendation_id))
        access = scope.recommendation_access(session, item)
        if not self.rule(user, access):
            raise not_found(request, page=NOT_FOUND.format(id=recommendation_id))
        request.state.recommendation_access = access
        return item

    def __repr__(self) -> str:
        return f"RecommendationLookup({self.rule.__name__})"


ReadableRecommendation = Annotated[Recommendation, Depends(RecommendationLookup(permissions.may_read_recommendation))]
