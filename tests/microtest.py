"""The part of unittest the unit tests use, for MicroPython (whose unix port has no
unittest). On CPython the tests import the real unittest and run under pytest."""
import sys


class SkipTest(Exception):
    pass


class TestCase:
    def assertEqual(self, a, b, msg=None):
        if a != b:
            raise AssertionError(msg or "%r != %r" % (a, b))

    def assertNotEqual(self, a, b, msg=None):
        if a == b:
            raise AssertionError(msg or "%r == %r" % (a, b))

    def assertTrue(self, x, msg=None):
        if not x:
            raise AssertionError(msg or "%r is not true" % (x,))

    def assertFalse(self, x, msg=None):
        if x:
            raise AssertionError(msg or "%r is not false" % (x,))

    def assertIs(self, a, b, msg=None):
        if a is not b:
            raise AssertionError(msg or "%r is not %r" % (a, b))

    def assertIsNone(self, x, msg=None):
        self.assertIs(x, None, msg)

    def assertIsNotNone(self, x, msg=None):
        if x is None:
            raise AssertionError(msg or "unexpectedly None")

    def assertIn(self, a, b, msg=None):
        if a not in b:
            raise AssertionError(msg or "%r not in %r" % (a, b))

    def assertNotIn(self, a, b, msg=None):
        if a in b:
            raise AssertionError(msg or "%r in %r" % (a, b))

    def assertLessEqual(self, a, b, msg=None):
        if not a <= b:
            raise AssertionError(msg or "%r > %r" % (a, b))

    def assertGreater(self, a, b, msg=None):
        if not a > b:
            raise AssertionError(msg or "%r <= %r" % (a, b))

    def assertRaises(self, exc, fn=None, *args):
        if fn is None:
            return _Raises(exc)
        try:
            fn(*args)
        except exc:
            return
        raise AssertionError("%r not raised" % (exc,))

    def subTest(self, **kw):
        return _Raises(None)


class _Raises:
    def __init__(self, exc):
        self.exc = exc

    def __enter__(self):
        return self

    def __exit__(self, t, v, tb):
        if self.exc is None:
            return False
        if t is None:
            raise AssertionError("%r not raised" % (self.exc,))
        return issubclass(t, self.exc)


def run_module(mod):
    """Run every test_* method of every TestCase in mod. Returns (passed, failed)."""
    passed = failed = 0
    for name in sorted(dir(mod)):
        cls = getattr(mod, name)
        if not (isinstance(cls, type) and issubclass(cls, TestCase) and cls is not TestCase):
            continue
        for meth in sorted(dir(cls)):
            if not meth.startswith("test"):
                continue
            t = cls()
            try:
                if hasattr(t, "setUp"):
                    t.setUp()
                getattr(t, meth)()
                passed += 1
            except SkipTest:
                pass
            except Exception as e:
                failed += 1
                print("FAIL %s.%s.%s: %r" % (mod.__name__, name, meth, e))
                if hasattr(sys, "print_exception"):
                    sys.print_exception(e)
    return passed, failed
