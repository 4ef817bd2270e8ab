-- pgbench: the database ceiling. One vote-shaped row per transaction, like the floor view.
\set poll random(1, 1000)
\set choice random(1, 4)
INSERT INTO bench_vote (poll_id, choice_id, voter, created_at)
VALUES (:poll, :poll * 10 + :choice, md5(random()::text || :client_id), now());
