"""lstm_course.grading.submissions: what the grader reads from a submission folder, its size limit, and the
hash that decides whether it is graded again."""

from __future__ import annotations

import pytest

from lstm_course.grading.submissions import (
    SubmissionTooLarge,
    check_submission,
    choose_language,
    read_submission,
    safe_relpath,
    source_named,
    submission_digest,
)


def test_read_submission_drops_links_and_caches(tmp_path):
    sub = tmp_path / "sub"
    (sub / "data").mkdir(parents=True)
    (sub / "gates.ipynb").write_text("{}")
    (sub / "data" / "x.csv").write_text("1,2\n")
    (sub / ".ipynb_checkpoints").mkdir()
    (sub / ".ipynb_checkpoints" / "gates-checkpoint.ipynb").write_text("{}")
    secret = tmp_path / "secret.txt"
    secret.write_text("hidden tests")
    (sub / "notes.txt").symlink_to(secret)
    (sub / "linked_dir").symlink_to(tmp_path)
    files, links = read_submission(sub)
    assert files == {"data/x.csv": b"1,2\n", "gates.ipynb": b"{}"}
    assert links == ["linked_dir", "notes.txt"]


def test_read_submission_refuses_a_huge_folder_before_reading(tmp_path):
    (tmp_path / "big.bin").write_bytes(b"\0" * 3000)
    with pytest.raises(SubmissionTooLarge, match="over the 0 MiB limit"):
        read_submission(tmp_path, limit=2000)


def test_digest_follows_content_and_course():
    files = {"gates.ipynb": b"{}", "a.txt": b"x"}
    d = submission_digest(files, "k1")
    assert d == submission_digest(dict(reversed(files.items())), "k1")  # order does not matter
    assert d != submission_digest({**files, "a.txt": b"y"}, "k1")
    assert d != submission_digest({"gates.ipynb": b"{}", "b.txt": b"x"}, "k1")  # names count
    assert d != submission_digest(files, "k2")


def test_unsafe_paths_are_refused():
    assert str(safe_relpath("data/x.csv")) == "data/x.csv"
    for bad in ("../x", "/etc/passwd", "a/../../x", ""):
        with pytest.raises(ValueError, match="unsafe path"):
            safe_relpath(bad)


def test_a_submission_is_the_english_notebook_or_its_twin_never_both(tmp_path):
    """The folder's notebook says the language; both at once are refused with the reason; none is English,
    and check_submission then names what is missing."""
    (tmp_path / "gates.zh_CN.ipynb").write_text("{}")
    assert choose_language(tmp_path, ["gates.ipynb"]) == ("zh_CN", "")
    (tmp_path / "gates.ipynb").write_text("{}")
    lang, why = choose_language(tmp_path, ["gates.ipynb"])
    assert (lang, why) == (
        "en",
        "both gates.ipynb and gates.zh_CN.ipynb were handed in: hand in only the notebook you worked in",
    )
    (tmp_path / "gates.zh_CN.ipynb").unlink()
    assert choose_language(tmp_path, ["gates.ipynb"]) == ("en", "")
    (tmp_path / "gates.ipynb").unlink()
    (tmp_path / "gates (1).ipynb").write_text("{}")
    assert choose_language(tmp_path, ["gates.ipynb"]) == ("en", "")
    assert check_submission(tmp_path, ["gates.ipynb"]) == "gates.ipynb is missing (found: gates (1).ipynb)"


def test_a_twin_is_graded_under_the_english_name():
    files = {"gates.zh_CN.ipynb": b"zh", "notes/gates.zh_CN.ipynb": b"kept", "x.csv": b"1"}
    assert source_named(files, ["gates.ipynb"], "zh_CN") == {
        "gates.ipynb": b"zh",
        "notes/gates.zh_CN.ipynb": b"kept",
        "x.csv": b"1",
    }
    assert source_named({"gates.ipynb": b"en"}, ["gates.ipynb"], "en") == {"gates.ipynb": b"en"}
