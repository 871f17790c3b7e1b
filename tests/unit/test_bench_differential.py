"""bench.differential: the generator is repeatable, and a difference is reported where it first occurs."""

from __future__ import annotations

from bench import differential


def test_the_same_seed_gives_the_same_payloads_and_another_seed_others():
    assert differential.payloads(7, 40) == differential.payloads(7, 40)
    assert differential.payloads(7, 40) != differential.payloads(8, 40)


def test_payloads_start_with_the_samples_and_vary_the_rest():
    documents = differential.payloads(1, 200)
    assert len(documents) == len(differential.SAMPLES) + 200 + 40
    udos = [document.get("data", {}).get("udo", {}) for document in documents if isinstance(document, dict)]
    assert any("_cprice" in udo for udo in udos)


def test_the_first_difference_names_the_action_and_the_payload():
    same = [["purchase", 0, "evt-1", False, True, "{}", [], []]]
    changed = [["purchase", 0, "evt-1", False, True, '{"x":1}', [], []]]
    assert differential.first_difference(same, same) is None
    difference = differential.first_difference(changed, same)
    assert difference is not None and difference.startswith("action purchase, payload 0:")
    assert differential.first_difference(same, same + same) == "1 answers here against 2 in the revision"
