"""Contacts: who writes in, who comes back, and what the CRM knows about them.

Contacts are numbered per medium and their identifiers derive from that
number, so returning contacts cost no memory: a counter per medium is all
the state there is.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from cxport.simulate.catalog import ATTRIBUTES, AttributeDefinition
from cxport.simulate.content import TRICKY_NAMES, contact_identifiers
from cxport.simulate.options import SimOptions
from cxport.simulate.period import DAY_MS
from cxport.simulate.writer import RecordWriter

MEDIUM_CODES = {
    "whatsapp": "wa",
    "sms": "sms",
    "twitter": "tw",
    "instagram": "ig",
    "facebook": "fb",
    "email": "em",
    "web-messenger": "web",
}
_PLANS = ("Bronze", "Prata", "Ouro", "Diamante, anual")
_CHANNELS = ("WhatsApp", "E-mail", "Telefone", "=Qualquer um")
_SEGMENTS = ("Varejo", "Atacado", "+Premium", "-")


def _attribute_value(attr: str, k: int, primary: str | None, name: str | None) -> str:
    """A plausible value of attribute `attr` for the k-th contact of a medium."""
    if attr == "at-email":
        return f"cliente{k}@mail.example"
    if attr == "at-telefone":
        return primary if primary and primary.startswith("+") else f"+5511{30000000 + k}"
    if attr in ("at-nome", "at-wa-perfil"):
        base = name or f"Cliente {k}"
        return base if attr == "at-nome" else f"{base.split(' ')[0]} ✨"
    if attr == "at-plano":
        return _PLANS[k % len(_PLANS)]
    if attr == "at-cliente-desde":
        return f"{2015 + k % 9}-{1 + k % 12:02d}-{1 + k % 28:02d}"
    if attr == "at-preferencia":
        return _CHANNELS[k % len(_CHANNELS)]
    if attr == "at-ig-seguidores":
        return str((k * 7919) % 250_000)
    if attr == "at-tw-verificado":
        return "sim" if k % 11 == 0 else "não"
    if attr == "at-crm-id":
        return f"CRM-{k:07d}"
    if attr == "at-segmento":
        return _SEGMENTS[k % len(_SEGMENTS)]
    reais = (k * 104_729) % 5_000_000 / 100  # at-ltv, written the Brazilian way
    return f"R$ {reais:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


class ContactBook:
    """Picks the contact of each new conversation and writes new contacts."""

    def __init__(self, writer: RecordWriter, options: SimOptions, u: Callable[[], float]) -> None:
        self._w = writer
        self._o = options
        self._u = u
        self._count: dict[str, int] = {}
        self._attributes: dict[str, list[AttributeDefinition]] = {
            medium: [a for a in ATTRIBUTES if a.medium in (None, medium)] for medium in MEDIUM_CODES
        }

    def pick(self, medium: str, t: int) -> str:
        """A returning contact of the medium, or a new one written at t."""
        u = self._u
        n = self._count.get(medium, 0)
        code = MEDIUM_CODES[medium]
        if n and u() < self._o.returning_contact_rate:
            # Loyal customers come back more: lower numbers are likelier.
            return f"ct-{code}-{int(n * u() * u())}"
        self._count[medium] = n + 1
        contact_id = f"ct-{code}-{n}"
        primary, secondary = contact_identifiers(medium, n)
        self._w.contact(t, contact_id, medium, primary, secondary)
        if u() < self._o.contact_update_rate:  # identified later, or renamed
            later = t + int(-math.log(1.0 - u()) * 5 * DAY_MS)
            new_name = (
                TRICKY_NAMES[n % len(TRICKY_NAMES)] if n % 3 == 0 else f"{secondary or 'Cliente'} ✔"
            )
            self._w.contact(later, contact_id, medium, primary, new_name)
        if u() < self._o.attribute_rate:
            self._set_attributes(contact_id, medium, n, t, primary, secondary)
        return contact_id

    def _set_attributes(
        self, contact_id: str, medium: str, k: int, t: int, primary: str | None, name: str | None
    ) -> None:
        u = self._u
        w = self._w
        for attr in self._attributes[medium]:
            if u() >= 0.5:
                continue
            at = t + 1000 + int(u() * 60_000)
            w.contact_attribute(
                at,
                contact_id,
                attr.attribute_id,
                _attribute_value(attr.attribute_id, k, primary, name),
            )
            if u() < self._o.attribute_change_rate:
                later = at + int(-math.log(1.0 - u()) * 7 * DAY_MS)
                value = (
                    None if u() < 0.3 else _attribute_value(attr.attribute_id, k + 1, primary, name)
                )
                w.contact_attribute(later, contact_id, attr.attribute_id, value)
