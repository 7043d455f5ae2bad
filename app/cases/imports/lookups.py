"""The import a route is about, if the signed-in user may manage imports (`app.cases.imports.permissions`), or 404.
The pages and the API take the same lookup and the same guard:

    ImportManager   the guard: the QA lead (403 for anyone else)
    ManagedImport   the import named by `import_id`, with every preview whose time has come marked expired first
                    (so its status is true)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.accounts.models import User
from app.cases import service
from app.cases.imports import selectors
from app.cases.imports.permissions import IMPORT_ROLES, may_manage_imports
from app.cases.models import CaseImport
from app.db import RowId, SessionDep
from app.web.auth import RoleGuard
from app.web.lookup import not_found

ImportManager = Annotated[User, Depends(RoleGuard(*IMPORT_ROLES))]
NOT_FOUND = "There is no import with that number."
NOT_FOUND_API = "Import {id} not found"


def managed_import(request: Request, import_id: RowId, session: SessionDep, user: ImportManager) -> CaseImport:
    service.imports_expire_due(session)
    case_import = selectors.import_get(session, import_id=import_id)
    if case_import is None or not may_manage_imports(user):
        raise not_found(request, page=NOT_FOUND, api=NOT_FOUND_API.format(id=import_id))
    return case_import


ManagedImport = Annotated[CaseImport, Depends(managed_import)]
