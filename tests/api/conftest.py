"""The API tests' handler loader: every module here may use `load_handler` (tests/handlers.py),
including through the `api` fixture other modules import from test_api_unit."""
from tests.handlers import load_handler  # noqa: F401  (a fixture)
