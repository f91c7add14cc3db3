"""`python -m bot.cli` runs the `sokuresu` command."""
import sys

from bot.cli import main

sys.exit(main())
