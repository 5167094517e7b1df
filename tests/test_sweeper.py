"""The sweeper's job names: what every job shares is left out, unless names would clash."""

from imbalance.run.sweep_dir import named_apart, shared_keys

JOBS = [
    ["ratio=15", "remedy=none", "seed=0", "data.test=balanced", "+trainer.max_time=null"],
    ["ratio=15", "remedy=crt", "seed=0", "data.test=balanced", "+trainer.max_time=null"],
    ["ratio=15", "remedy=none", "seed=1", "data.test=balanced", "+trainer.max_time=null"],
]


def test_the_keys_every_job_shares_are_left_out_of_the_names():
    shared = shared_keys(JOBS)
    assert sorted(shared) == ["data.test", "ratio", "trainer.max_time"]  # `+` is not the key's
    assert named_apart(JOBS, shared)


def test_names_that_would_clash_or_vanish_keep_every_override():
    one = JOBS[:1]  # a single job shares everything: its name would be empty
    assert not named_apart(one, shared_keys(one))
    twice = [JOBS[0], JOBS[0]]  # the same job twice
    assert not named_apart(twice, shared_keys(twice))
    # Jobs that differ only in a key that names leave out anyway (a path).
    roots = [["data.root=/a", "ratio=3"], ["data.root=/b", "ratio=3"]]
    assert not named_apart(roots, ["data.root", *shared_keys(roots)])
    assert named_apart(roots, shared_keys(roots))
