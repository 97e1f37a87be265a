"""The C allocator's settings: glibc's mmap threshold fixed for the sync, nothing elsewhere."""

import ctypes
import platform
import sys

import pytest

from act_connector import allocator
from act_connector.allocator import M_MMAP_THRESHOLD


class FakeGlibc:
    def __init__(self, answer: int = 1):
        self.calls, self.answer = [], answer

    def mallopt(self, parameter: int, value: int) -> int:
        self.calls.append((parameter, value))
        return self.answer


def test_the_threshold_is_fixed_at_glibcs_initial_one():
    libc = FakeGlibc()
    assert allocator.keep_large_buffers_mapped(libc)
    assert libc.calls == [(M_MMAP_THRESHOLD, 128 * 1024)]


def test_a_refused_setting_says_so():
    assert not allocator.keep_large_buffers_mapped(FakeGlibc(answer=0))


def test_without_glibc_nothing_is_done(monkeypatch):
    monkeypatch.setattr(allocator, "glibc", lambda: None)
    assert not allocator.keep_large_buffers_mapped()


def test_a_c_library_without_glibcs_mark_is_not_glibc(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(ctypes, "CDLL", lambda name: object())  # no symbols at all
    assert allocator.glibc() is None


def test_not_on_linux_no_library_is_loaded(monkeypatch):
    def refuse(name):
        raise AssertionError("no C library is looked for off Linux")

    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(ctypes, "CDLL", refuse)
    assert allocator.glibc() is None


def test_a_c_library_that_cannot_be_loaded_or_a_python_without_ctypes_is_no_glibc(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")

    def unloadable(name):
        raise OSError("dlopen failed")

    monkeypatch.setattr(ctypes, "CDLL", unloadable)
    assert allocator.glibc() is None
    monkeypatch.setitem(sys.modules, "ctypes", None)  # `import ctypes` raises ImportError
    assert allocator.glibc() is None


@pytest.mark.parametrize(
    ("name", "value"),
    [("MALLOC_MMAP_THRESHOLD_", "65536"), ("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=1")],
)
def test_a_threshold_set_by_whoever_runs_the_connector_stands(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    libc = FakeGlibc()
    assert not allocator.keep_large_buffers_mapped(libc)
    assert libc.calls == []


def test_the_real_c_library_is_recognised_and_the_setting_applied_on_glibc_only(monkeypatch):
    for name in allocator.OWN_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    on_glibc = platform.libc_ver()[0] == "glibc"
    assert (allocator.glibc() is not None) == on_glibc
    assert allocator.keep_large_buffers_mapped() == on_glibc
