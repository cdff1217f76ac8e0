"""Link proposals: normalised name, then email, then phone; one-to-one; ambiguity reported, never guessed."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from qbsf.sync.matching import Candidate, normalise_email, normalise_name, normalise_phone, propose_links


def test_normalisers() -> None:
    assert normalise_name("  ACME,   Inc. ") == "acme inc"
    assert normalise_name("Café-Bar_Ltd") == "cafe bar ltd"
    assert normalise_name(None) == ""
    assert normalise_email(" Ann@Example.COM ") == "ann@example.com"
    assert normalise_phone("+1 (555) 010-0100") == normalise_phone("555.010.0100") == "5550100100"
    assert normalise_phone("12") == "", "too short to be a phone number"


def test_name_then_email_then_phone_one_to_one() -> None:
    sf = [Candidate("001A", "Acme, Inc."), Candidate("001B", "Globex", email="ops@globex.com"),
          Candidate("001C", "Initech", phone="(555) 010-0199"), Candidate("001D", "Nobody")]
    qb = [Candidate("Q1", "ACME INC"), Candidate("Q2", "Globex Corporation", email="OPS@globex.com"),
          Candidate("Q3", "Initech LLC", phone="555-010-0199"), Candidate("Q4", "Somebody")]
    proposals, ambiguities = propose_links(sf, qb)
    assert [(p.sf_id, p.qb_id, p.reason) for p in proposals] == [
        ("001A", "Q1", "name"), ("001B", "Q2", "email"), ("001C", "Q3", "phone")]
    assert ambiguities == []


def test_a_shared_name_is_reported_not_guessed() -> None:
    sf = [Candidate("001A", "Acme"), Candidate("001B", "ACME", email="b@acme.com")]
    qb = [Candidate("Q1", "acme", email="b@acme.com")]
    proposals, ambiguities = propose_links(sf, qb)
    assert [(a.reason, a.sf_ids, a.qb_ids) for a in ambiguities] == [("name", ("001A", "001B"), ("Q1",))]
    assert [(p.sf_id, p.qb_id, p.reason) for p in proposals] == [("001B", "Q1", "email")], \
        "email settles what the name could not"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["Acme", "acme", "Globex", "Initech", "Umbrella"]), max_size=8),
       st.lists(st.sampled_from(["ACME", "Globex!", "initech", "Hooli"]), max_size=8))
def test_proposals_never_reuse_a_record(sf_names: list[str], qb_names: list[str]) -> None:
    proposals, _ = propose_links([Candidate(f"S{i}", n) for i, n in enumerate(sf_names)],
                                 [Candidate(f"Q{i}", n) for i, n in enumerate(qb_names)])
    assert len({p.sf_id for p in proposals}) == len(proposals) == len({p.qb_id for p in proposals})
    assert all(normalise_name(p.sf_name) == normalise_name(p.qb_name) for p in proposals)
