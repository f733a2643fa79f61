""" "This wasn't me": the link of a new-device notice."""

from __future__ import annotations

from litestar import Controller, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from application.devices.secure import SecureAccount, SecureAccountCommand
from domain import errors as e
from interfaces.http.devices.requests import SecureAccountRequest
from interfaces.http.documentation import BODY, problems
from interfaces.http.providers import Client, Inject


class DevicesController(Controller):
    path = "/auth/account"
    tags = ("auth",)

    @post(
        "/secure",
        status_code=HTTP_204_NO_CONTENT,
        summary='"This wasn\'t me": end every session and block the password',
        description="The token of a new-device notice (7 days, single use): every session of "
        "the account ends, its password stops working until it is reset (a reset mail is "
        "sent), and the event is audited.",
        responses=problems(*BODY, e.InvalidSecureToken, e.StorageUnavailable),
    )
    async def secure(
        self,
        data: JSONBody[SecureAccountRequest],
        secure_account: Inject[SecureAccount],
        client: Client,
    ) -> None:
        await secure_account.execute(SecureAccountCommand(token=data.token, client=client))
