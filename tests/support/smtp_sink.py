"""A real SMTP server for the tests (aiosmtpd): every message received is
written, decoded, as one JSON file in the output directory.

usage: python smtp_sink.py PORT OUTPUT_DIR
"""

import asyncio
import email
import json
import os
import sys
import time
from email import policy

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out):
        self.out = out

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        text = msg.get_body(("plain",))
        html = msg.get_body(("html",))
        record = {
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "subject": str(msg["Subject"]),
            "rcpt_tos": envelope.rcpt_tos,
            "text": text.get_content() if text else "",
            "html": html.get_content() if html else "",
        }
        name = os.path.join(self.out, f"{time.time_ns()}.json")
        with open(name + ".part", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(name + ".part", name)
        return "250 Message accepted"


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Sink(out), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        asyncio.get_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
