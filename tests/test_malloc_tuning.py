"""The worker's glibc malloc tuning: applied on glibc, user variables respected."""

from __future__ import annotations

import os
import sys

import pytest

from corral.worker import malloc


class FakeLibc:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return 1


@pytest.fixture
def libc(monkeypatch):
    fake = FakeLibc()
    monkeypatch.setattr(malloc.ctypes, "CDLL", lambda _name: fake)
    monkeypatch.setattr(malloc.sys, "platform", "linux")
    monkeypatch.setattr(malloc.os, "confstr", lambda _name: "glibc 2.36")
    return fake


def test_trim_threshold_and_top_pad_are_raised(libc, monkeypatch):
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    monkeypatch.delenv("MALLOC_TOP_PAD_", raising=False)
    assert malloc.tune_malloc()
    assert libc.calls == [
        (malloc.M_TRIM_THRESHOLD, malloc.TRIM_THRESHOLD),
        (malloc.M_TOP_PAD, malloc.TOP_PAD),
    ]


def test_the_users_own_glibc_variables_win(libc, monkeypatch):
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    monkeypatch.delenv("MALLOC_TOP_PAD_", raising=False)
    malloc.tune_malloc()
    assert libc.calls == [(malloc.M_TOP_PAD, malloc.TOP_PAD)]


def test_nothing_is_done_off_glibc(monkeypatch):
    monkeypatch.setattr(malloc.sys, "platform", "linux")
    monkeypatch.setattr(malloc.os, "confstr", lambda _name: None)  # musl has no answer
    assert not malloc.tune_malloc()


def test_a_libc_that_does_not_know_the_name_is_not_glibc(monkeypatch):
    def unknown(_name):
        raise ValueError("unrecognized configuration name")

    monkeypatch.setattr(malloc.sys, "platform", "linux")
    monkeypatch.setattr(malloc.os, "confstr", unknown)
    assert not malloc.tune_malloc()


@pytest.mark.skipif(
    sys.platform != "linux" or not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"),
    reason="glibc only",
)
def test_the_real_mallopt_accepts_the_values():
    assert malloc.tune_malloc()
