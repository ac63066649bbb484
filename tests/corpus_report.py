"""Print every corpus entry whose effect differs, with its interpretation (for word work)."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from corpus_driver import effect_of, reach

from assistant.dialog import DialogMachine
from assistant.dialog_data import load_dialogs
from assistant.dialog_model import WHICH
from assistant.transcript import HeardEvent

CORPUS = yaml.safe_load((Path(__file__).parent / "corpus" / "utterances.yaml").read_text("utf-8"))


def main() -> int:
    dialogs = load_dialogs()
    wrong = 0
    for entry in CORPUS:
        if len(sys.argv) > 1 and sys.argv[1] not in entry["say"] + entry["at"]:
            continue
        conv = reach(DialogMachine(dialogs), dialogs, entry["at"])
        before = conv.state
        conv.reply(entry["say"])
        heard = next(e for e in conv.last.events if isinstance(e, HeardEvent))
        found = effect_of(conv, dialogs, before, conv.last.says, heard)
        ok = found.name == entry["effect"] or (entry["at"] == "ask_unwell" and
                                               entry["effect"] == "stop_routine" and
                                               conv.state == WHICH)
        if not ok or len(sys.argv) > 1:
            wrong += not ok
            print(f"[{entry['at']}] {entry['say']!r}\n"
                  f"   want {entry['effect']} {entry.get('symptoms', '')}"
                  f"  got {found.name} ({heard.understood}: {heard.why})\n"
                  f"   meaning {heard.meaning}"
                  + (f"\n   why: {entry['why']}" if entry.get("why") else ""))
    print(wrong, "differ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
