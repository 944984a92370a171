"""enums.py: the table of MHD's small numbered enums, resolved by the package on first use."""
from testing import unittest
import mhd_micro as mhd
from mhd_micro import enums


class TestEnums(unittest.TestCase):
    def test_every_name_resolves(self):
        n = 0
        for t in enums._NUMBERS:
            for e in bytes(t).split(b"\n"):
                if e:
                    name, number = e.decode().split(" ")
                    self.assertEqual(enums.resolve(name), int(number))
                    n += 1
        self.assertTrue(n > 150)
        # through the package (which keeps each name it resolves: a few only, on a small heap)
        self.assertEqual((mhd.HTTP_METHOD_PUT, mhd.DAEMON_INFO_FIXED_BIND_PORT, mhd.POST_PARSE_RES_OK), (4, 1, 0))

    def test_pieces_are_small_and_whole(self):
        # after daemon_start the heap is in pieces: loading the table must need no block over 1 KB
        for t in enums._NUMBERS:
            self.assertTrue(len(t) <= 1024)
            self.assertEqual((t[0], t[-1]), (10, 10))  # each entry whole: "\nNAME NUMBER\n"

    def test_daemon_infos_resolve_in_daemon_info(self):
        # DAEMON_INFO_* are daemon_info.py's (loaded after the start anyway), not enums.py's
        from mhd_micro import daemon_info
        n = 0
        for e in bytes(daemon_info._NAMES).split(b"\n"):
            if e:
                name, number = e.decode().split(" ")
                self.assertEqual(getattr(mhd, name), int(number))
                self.assertIsNone(enums.resolve(name))
                n += 1
        self.assertEqual(n, 5)
        self.assertIsNone(daemon_info.resolve("DAEMON_INFO_FIXED_BIND"))  # a prefix is not a name
        with self.assertRaises(AttributeError):
            mhd.DAEMON_INFO_NOPE

    def test_connection_info_of_a_free_slot(self):
        # daemon_info.py keeps its own copies of the connection's stages (ST_FREE: too late)
        from mhd_micro.connection import Connection
        c = Connection(mhd.daemon_create(None))
        self.assertEqual(mhd.connection_get_info_dynamic(c, mhd.CONNECTION_INFO_DYNAMIC_CONNECTION_SUSPENDED),
                         (60001, None))  # SC_TOO_LATE

    def test_unknown_names(self):
        self.assertIsNone(enums.resolve("HTTP_METHOD_NOPE"))
        self.assertIsNone(enums.resolve("HTTP_METHOD_GE"))  # a prefix of a name is not that name
        with self.assertRaises(AttributeError):
            mhd.HTTP_METHOD_NOPE

