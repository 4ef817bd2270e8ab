"""The vote role, as the shared suites see it (tests.support.facts)."""

from tests.support.facts import RoleFacts

# Casting, vote's one write, counts against its own per-voter limit in place of the shared one.
FACTS = RoleFacts(write_path="polls/1/votes/", read_paths=("polls/1/results/",), write_scope="vote_voter")
