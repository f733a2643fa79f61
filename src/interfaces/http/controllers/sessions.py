from __future__ import annotations

import re
from typing import Any

from litestar import Controller, Request, Response, delete, get
from litestar.params import FromPath
from litestar.status_codes import HTTP_204_NO_CONTENT

from application.sessions import RevokeOneCommand
from domain.errors import SessionNotFound
from interfaces.http.bodies import SessionBody, SessionsBody, iso
from interfaces.http.controllers.auth import NO_STORE, Caller, Services
from interfaces.http.transport import client_info

SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class SessionsController(Controller):
    path = "/auth/sessions"
    tags = ("sessions",)

    @get("/", summary="The caller's live sessions (devices)")
    async def list_sessions(self, caller: Caller, services: Services) -> Response[SessionsBody]:
        devices = await services.cases.list_sessions.execute(caller)
        body = SessionsBody(
            sessions=[
                SessionBody(
                    id=d.session.id,
                    created_at=iso(d.session.created_at),
                    last_used_at=iso(d.session.last_used_at),
                    ip_address=d.session.ip_address,
                    user_agent=d.session.user_agent,
                    current=d.current,
                )
                for d in devices
            ]
        )
        return Response(body, headers=NO_STORE)

    @delete(
        "/{session_id:str}",
        status_code=HTTP_204_NO_CONTENT,
        summary="End one of the caller's sessions",
    )
    async def revoke_session(
        self,
        request: Request[Any, Any, Any],
        session_id: FromPath[str],
        caller: Caller,
        services: Services,
    ) -> None:
        if not SESSION_ID.fullmatch(session_id):
            raise SessionNotFound()  # ours are URL-safe tokens; nothing else names a session
        await services.cases.revoke_session.execute(
            RevokeOneCommand(
                caller=caller, session_id=session_id, client=client_info(request, services.settings)
            )
        )
