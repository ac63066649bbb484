#!/usr/bin/env python3
"""Start the assistant: `python run.py` (voice) or `python run.py --text`."""

import sys

from assistant.cli import main

if __name__ == "__main__":
    sys.exit(main())
