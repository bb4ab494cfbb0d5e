import unittest

import unitconv


class PackageTest(unittest.TestCase):
    def test_version(self) -> None:
        self.assertTrue(unitconv.__version__)


if __name__ == "__main__":
    unittest.main()
