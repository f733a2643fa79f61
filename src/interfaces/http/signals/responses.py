"""What a Shared Signals transmitter answers: its metadata (SSF 1.0 §7.1), a receiver's
stream (§8.1.1), and a poll's SETs (RFC 8936 §2.5)."""

from __future__ import annotations

import msgspec


class AuthorizationScheme(msgspec.Struct, frozen=True):
    spec_urn: str


class TransmitterMetadata(msgspec.Struct, frozen=True):
    spec_version: str
    issuer: str
    jwks_uri: str
    delivery_methods_supported: list[str]
    configuration_endpoint: str
    authorization_schemes: list[AuthorizationScheme]
    default_subjects: str


class Delivery(msgspec.Struct, frozen=True):
    method: str
    endpoint_url: str


class StreamBody(msgspec.Struct, frozen=True):
    stream_id: str
    iss: str
    aud: str
    events_supported: list[str]
    events_requested: list[str]
    events_delivered: list[str]
    delivery: Delivery
    description: str


class PollBody(msgspec.Struct, frozen=True, rename="camel"):
    sets: dict[str, str]
    more_available: bool
