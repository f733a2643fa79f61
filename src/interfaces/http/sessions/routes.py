from __future__ import annotations

import re

from litestar import Controller, Response, delete, get
from litestar.params import FromPath
from litestar.status_codes import HTTP_204_NO_CONTENT

from application.sessions import ListSessions, RevokeOneCommand, RevokeSession
from domain import errors as e
from interfaces.http.documentation import SIGNED_IN, NoContent, problems
from interfaces.http.providers import NO_STORE, Caller, Client, Inject
from interfaces.http.sessions.responses import SessionBody, SessionsBody
from interfaces.timestamps import iso

SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class SessionsController(Controller):
    path = "/auth/sessions"
    tags = ("sessions",)

    @get(
        "/",
        summary="The caller's live sessions (devices)",
        security=SIGNED_IN,
        responses=problems(e.InvalidAccessToken, e.StorageUnavailable),
    )
    async def list_sessions(
        self, caller: Caller, list_sessions: Inject[ListSessions]
    ) -> Response[SessionsBody]:
        devices = await list_sessions.execute(caller)
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
        security=SIGNED_IN,
        operation_class=NoContent,
        responses=problems(e.InvalidAccessToken, e.SessionNotFound, e.StorageUnavailable),
    )
    async def revoke_session(
        self,
        session_id: FromPath[str],
        caller: Caller,
        revoke_session: Inject[RevokeSession],
        client: Client,
    ) -> None:
        if not SESSION_ID.fullmatch(session_id):
            raise e.SessionNotFound()  # ours are URL-safe tokens; nothing else names a session
        await revoke_session.execute(
            RevokeOneCommand(caller=caller, session_id=session_id, client=client)
        )
