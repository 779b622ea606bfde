"""Fill msgstr values of a .po file from a JSON dict {msgid: msgstr}; report what is missing.

Usage: python tools/fill_po.py caseapp/translations/zh_CN/LC_MESSAGES/messages.po tr.json
"""

import json
import sys

from babel.messages.pofile import read_po, write_po


def main(po_path: str, json_path: str) -> int:
    with open(po_path, "rb") as fh:
        catalog = read_po(fh)
    with open(json_path, encoding="utf-8") as fh:
        translations = json.load(fh)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        if message.id in translations:
            message.string = translations[message.id]
            message.flags.discard("fuzzy")
        elif not message.string or message.fuzzy:
            missing.append(message.id)
    with open(po_path, "wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False, sort_output=True)
    for msgid in missing:
        print(f"missing: {msgid!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
