"""``authgate webhooks …``: the admin API's webhook operations for the operator."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TypeVar

from application.admin import CLI
from application.webhooks.endpoints import AddWebhookCommand, ManageWebhooks
from domain.errors import WebhookNotFound
from domain.ports import WebhookDelivery, WebhookEndpoint
from domain.values import MAX_ID
from infrastructure.config import Settings
from interfaces.bootstrap import open_service
from interfaces.cli.errors import CliError, require_migrated
from interfaces.timestamps import iso

T = TypeVar("T")
Action = Callable[[ManageWebhooks, argparse.Namespace], Awaitable[int]]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    webhooks = commands.add_parser("webhooks", help="the endpoints told of what happens")
    verbs = webhooks.add_subparsers(dest="verb", required=True)
    add = verbs.add_parser("add", help="add an endpoint; its signing secret is shown this once")
    add.add_argument("url", help="https:// URL the events are posted to")
    add.add_argument("--events", required=True, help="comma-separated, e.g. user.created")
    add.set_defaults(action=_add)
    verbs.add_parser("list", help="every endpoint, by id").set_defaults(action=_list)
    for verb, action, text in [
        ("remove", _remove, "remove an endpoint and its deliveries"),
        ("rotate-secret", _rotate, "a new secret, shown once; the old one signs for 24 h"),
        ("enable", _enable, "send to an endpoint a 410 disabled again"),
        ("deliveries", _deliveries, "the endpoint's latest deliveries, newest first"),
        ("replay", _replay, "send a delivery again (the same webhook-id)"),
    ]:
        parser = verbs.add_parser(verb, help=text)
        parser.add_argument("webhook", type=_id, help="endpoint id (see `webhooks list`)")
        parser.set_defaults(action=action)
    verbs.choices["replay"].add_argument(
        "delivery", type=_id, help="delivery id (see `webhooks deliveries`)"
    )


def command(args: argparse.Namespace) -> Callable[[Settings], Awaitable[int]]:
    async def run(settings: Settings) -> int:
        await require_migrated(settings)
        async with open_service(settings) as service:
            action: Action = args.action
            return await action(service.cases.manage_webhooks, args)

    return run


def _id(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise argparse.ArgumentTypeError(f"not an id: {text}")
    return int(text)


async def _add(webhooks: ManageWebhooks, args: argparse.Namespace) -> int:
    events = [event.strip() for event in args.events.split(",") if event.strip()]
    added = await webhooks.add(AddWebhookCommand(url=args.url, events=events, actor=CLI))
    print(f"webhook {added.id} added")
    print(f"secret: {added.secret}  (shown this once: keep it with the receiver)")
    return 0


async def _list(webhooks: ManageWebhooks, args: argparse.Namespace) -> int:
    for endpoint in await webhooks.all():
        print(_row(endpoint))
    return 0


async def _remove(webhooks: ManageWebhooks, args: argparse.Namespace) -> int:
    await _found(webhooks.remove(args.webhook, CLI))
    print(f"webhook {args.webhook} removed")
    return 0


async def _rotate(webhooks: ManageWebhooks, args: argparse.Namespace) -> int:
    rotated = await _found(webhooks.rotate_secret(args.webhook, CLI))
    print(f"secret: {rotated.secret}  (shown this once; the old one signs for 24 h more)")
    return 0


async def _enable(webhooks: ManageWebhooks, args: argparse.Namespace) -> int:
    await _found(webhooks.enable(args.webhook, CLI))
    print(f"webhook {args.webhook} enabled")
    return 0


async def _deliveries(webhooks: ManageWebhooks, args: argparse.Namespace) -> int:
    for delivery in await _found(webhooks.deliveries(args.webhook)):
        print(_delivery(delivery))
    return 0


async def _replay(webhooks: ManageWebhooks, args: argparse.Namespace) -> int:
    await _found(webhooks.replay(args.webhook, args.delivery, CLI))
    print(f"delivery {args.delivery} queued again")
    return 0


async def _found(call: Awaitable[T]) -> T:
    try:
        return await call
    except WebhookNotFound as e:
        raise CliError(f"{e.detail} See `authgate webhooks list` and `deliveries`.") from e


def _row(endpoint: WebhookEndpoint) -> str:
    status = "disabled" if endpoint.disabled_at else "active"
    events = ",".join(endpoint.events)
    return f"{endpoint.id:>6}  {status:<8}  {iso(endpoint.created_at)}  {endpoint.url}  {events}"


def _delivery(d: WebhookDelivery) -> str:
    if d.delivered_at is not None:
        state = f"delivered {iso(d.delivered_at)}"
    elif d.failed_at is not None:
        state = f"gave up {iso(d.failed_at)}"
    else:
        state = "pending"
    last = f"{d.last_status or '-'} {d.last_error or ''}".rstrip()
    return (
        f"{d.id:>8}  {d.message_id}  {d.type:<16}  {iso(d.created_at)}"
        f"  attempts={d.attempts}  last={last}  {state}"
    )
