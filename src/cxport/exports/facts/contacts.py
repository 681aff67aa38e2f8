"""Contacts as they stand at the snapshot.

- `f_contact_entity`: the latest version of each contact (`e_contact`, kept).
- `f_contact_attribute_value`: per (contact_profile_id, attribute_id) with any
  `contact_attribute` event, the `value` of its latest event in the order of
  records (NULL when that event cleared it) and `last_at`, the latest `at` of
  its events (a contact's attributes were last updated at the greatest); with
  what the Contact Attributes export shows beside them: the contact's
  `contact_primary` and `contact_secondary` identifiers and the attribute's
  `attribute_name` and `attribute_type` (NULL when unknown).

- `f_contact_card`: per contact with a version or an attribute event, what
  the Contacts export shows of it: `medium`, `primary_identifier`,
  `secondary_identifier` (NULL without a version) and `last_updated`, the
  latest `at` of its versions and attribute events.

None reads the request, and past the workspace's last record none changes
with `as_of`: all are kept (`kept.py`).
"""

from __future__ import annotations

from cxport.exports.facts import Fact

# The snapshot's own view (`store.Snapshot`), kept: exports read the stored copy.
CONTACT_ENTITY = Fact("f_contact_entity", sql="SELECT * FROM e_contact")

# A struct, so that a latest `null` (cleared) value is kept, not skipped.
CONTACT_ATTRIBUTE_VALUE = Fact(
    "f_contact_attribute_value",
    requires=("f_contact_entity",),
    sql="""
WITH pairs AS (
    SELECT contact_profile_id, attribute_id,
           arg_max({'value': value}, ("at", record_id)).value AS value,
           max("at") AS last_at
    FROM s_contact_attribute
    GROUP BY contact_profile_id, attribute_id
)
SELECT p.contact_profile_id, p.attribute_id, p.value, p.last_at,
       ct.primary_identifier AS contact_primary, ct.secondary_identifier AS contact_secondary,
       d.name AS attribute_name, d.attribute_type
FROM pairs AS p
LEFT JOIN f_contact_entity AS ct ON ct.contact_profile_id = p.contact_profile_id
LEFT JOIN e_contact_attribute_definition AS d ON d.attribute_id = p.attribute_id
""",
)

# Every contact with a version or an attribute event (a full join: either may
# be missing); its latest version is also the latest `at` of its versions.
CONTACT_CARD = Fact(
    "f_contact_card",
    requires=("f_contact_entity", "f_contact_attribute_value"),
    sql="""
WITH attribute_updates AS (
    SELECT contact_profile_id, max(last_at) AS last_at
    FROM f_contact_attribute_value
    GROUP BY contact_profile_id
)
SELECT coalesce(ct.contact_profile_id, up.contact_profile_id) AS contact_profile_id,
       ct.medium, ct.primary_identifier, ct.secondary_identifier,
       greatest(ct."at", up.last_at) AS last_updated
FROM f_contact_entity AS ct
FULL JOIN attribute_updates AS up ON up.contact_profile_id = ct.contact_profile_id
""",
)

FACTS: tuple[Fact, ...] = (CONTACT_ENTITY, CONTACT_ATTRIBUTE_VALUE, CONTACT_CARD)
