"""The command-line options in force, as the record keeps them at the start of each session."""

from __future__ import annotations

import argparse

NOT_RECORDED = ("diagram", "list_devices", "print_config", "learn_voice", "forget_voice")


def session_options(args: argparse.Namespace) -> dict[str, object]:
    """Every option that shapes the session, with its value (None: not given)."""
    from assistant.kiosk import recorded_options

    return recorded_options({key: value for key, value in sorted(vars(args).items())
                             if key not in NOT_RECORDED and value is not None})
