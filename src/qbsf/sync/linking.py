"""`qbsf link`: link records that exist on both sides before the first sync, instead of duplicating them.

:func:`propose` reads the unlinked records of one entity on both sides and proposes one-to-one matches by
normalised name, then email, then phone; :func:`accept` stores accepted matches in the crosswalk and writes the
QuickBooks ids to Salesforce; :func:`unlink` forgets a link on both sides.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from qbsf.errors import ConfigError
from qbsf.sync.changes import COLLECTION_SIZE
from qbsf.sync.entities import EntitySpec, eligibility_for, outbound_entities
from qbsf.sync.matching import Ambiguity, Candidate, Proposal, propose_links
from qbsf.sync.ports import QuickBooksPort, SalesforcePort
from qbsf.sync.state import Activity, Direction, Link, Outcome, StateStore

logger = logging.getLogger(__name__)

# The entities whose records `qbsf link` can match by name (their declarations say which QuickBooks records).
LINKABLE = tuple(item.key for item in outbound_entities() if item.link_candidates)


@dataclass
class LinkPlan:
    """Proposed links for one entity, the ambiguous keys, and how many records stay unmatched on each side."""

    entity: str
    proposals: list[Proposal] = field(default_factory=list)
    ambiguities: list[Ambiguity] = field(default_factory=list)
    sf_unmatched: int = 0
    qb_unmatched: int = 0


def _check(spec: EntitySpec) -> None:
    if spec.entity is None or not spec.declared.link_candidates:
        raise ConfigError(f"{spec.name} records cannot be linked by name",
                          hint=f"link one of {', '.join(LINKABLE)}; invoices are created from Opportunities")


def propose(spec: EntitySpec, sf: SalesforcePort, qb: QuickBooksPort, state: StateStore, *,
            eligibility: dict[str, str] | None = None) -> LinkPlan:
    """Proposals for the unlinked records of ``spec`` (two Salesforce reads at most, one QuickBooks query)."""
    _check(spec)
    extra = spec.declared.link_fields
    soql = f"SELECT Id, Name, {spec.qb_id_field}{''.join(', ' + f for f in extra)} FROM {spec.sf_object}"
    condition = eligibility_for(spec, eligibility)
    if condition:
        soql += f" WHERE {condition}"
    rows = sf.query(soql)
    linked_sf = state.lookup_many(spec.name, [row["Id"] for row in rows])
    sf_candidates = [Candidate(row["Id"], str(row.get("Name") or ""), email=str(row.get("Email") or ""),
                               phone=str(row.get("Phone") or ""))
                     for row in rows if row["Id"] not in linked_sf and not row.get(spec.qb_id_field)]
    found = qb.list_all(spec.qb_entity)
    linked_qb = state.lookup_qb_many(spec.name, [f.qb_id for f in found])
    qb_candidates = []
    for record in found:
        if record.qb_id in linked_qb:
            continue
        is_sub = ":" in record.full_name
        # Accounts match top-level customers; Contacts match sub-customers by their own (leaf) name.
        wanted = spec.declared.link_candidates
        if (wanted == "top" and is_sub) or (wanted == "sub" and not is_sub):
            continue
        leaf = record.full_name.rsplit(":", 1)[-1]
        qb_candidates.append(Candidate(record.qb_id, leaf, email=record.email, phone=record.phone))
    proposals, ambiguities = propose_links(sf_candidates, qb_candidates)
    by_qb = {record.qb_id: record for record in found}
    proposals = [Proposal(p.sf_id, p.qb_id, p.sf_name, by_qb[p.qb_id].full_name, p.reason) for p in proposals]
    return LinkPlan(spec.name, proposals, ambiguities, sf_unmatched=len(sf_candidates) - len(proposals),
                    qb_unmatched=len(qb_candidates) - len(proposals))


def accept(spec: EntitySpec, proposals: Sequence[Proposal], sf: SalesforcePort, qb: QuickBooksPort,
           state: StateStore) -> int:
    """Record accepted links locally, then write the QuickBooks ids to Salesforce; returns how many were linked."""
    _check(spec)
    if not proposals:
        return 0
    current = qb.edit_sequences(spec.qb_entity, [p.qb_id for p in proposals])
    links = [Link(spec.name, p.sf_id, p.qb_id, edit_sequence=current[p.qb_id].edit_sequence if p.qb_id in current
                  else None, external_guid=current[p.qb_id].external_guid if p.qb_id in current else None,
                  qb_name=p.qb_name) for p in proposals]
    with state.batch():
        state.record_many(links)
        state.log_many([Activity(spec.name, Direction.SF_TO_QB, "link", Outcome.LINKED, sf_id=p.sf_id, qb_id=p.qb_id,
                                 message=f"linked by {p.reason} to QuickBooks {spec.qb_entity} {p.qb_name!r}")
                        for p in proposals])
    done: list[str] = []
    for start in range(0, len(links), COLLECTION_SIZE):
        chunk = links[start:start + COLLECTION_SIZE]
        results = sf.update_many(spec.sf_object, [{"Id": link.sf_id, spec.qb_id_field: link.qb_id}
                                                  for link in chunk])
        done.extend(link.sf_id for link, result in zip(chunk, results, strict=True) if result.ok)
    state.mark_written_back_many(spec.name, done)
    return len(links)


def unlink(spec: EntitySpec, sf_id: str, sf: SalesforcePort, state: StateStore) -> bool:
    """Forget the link of one record here and in Salesforce; the next sync creates it in QuickBooks again."""
    if not state.unlink(spec.name, sf_id):
        return False
    results = sf.update_many(spec.sf_object, [{"Id": sf_id, spec.qb_id_field: None}])
    if not results or not results[0].ok:
        logger.warning("%s %s: clearing %s in Salesforce failed: %s", spec.name, sf_id, spec.qb_id_field,
                       results[0].message if results else "no answer")
    state.log(Activity(spec.name, Direction.SF_TO_QB, "unlink", Outcome.SKIPPED, sf_id=sf_id,
                       message="unlinked by a user"))
    return True
