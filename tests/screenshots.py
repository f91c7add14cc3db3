"""Where the screenshot journeys wrote: one stash key shared by tests/conftest.py (which prints the folders at the end
of the run) and the tests that save screenshots. It lives here, not in conftest.py, because pytest loads conftest.py
as its own module, and a key defined there would be a different object from the one a test imports."""
import pytest

SCREENSHOT_FOLDERS = pytest.StashKey[set]()
