"""Sender processes for the outbox tests, configured from the environment like the app.

``python worker.py web PORT``: a web worker serving the app, plus a view (behind the one
request boundary, like every view) that queues mail; after the request commits, the
boundary hands the messages on for delivery in this process, as in production.

``python worker.py deliver-loop STOPFILE``: a scheduler-like sender calling ``deliver_due``
over and over until the file STOPFILE exists.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from types import SimpleNamespace


def serve(port: int) -> None:
    from werkzeug.serving import make_server

    from buyergroup import create_app
    from buyergroup.boundary import transactional
    from buyergroup.mail.service import queue_email

    app = create_app()

    def queue(count: int, start: int):
        for n in range(start, start + count):
            address = f"reader{n:04d}@example.org"
            queue_email(address, "password_reset", user=SimpleNamespace(name=address),
                        link="https://buyergroup.test/password/reset/x", hours=2)
        return "queued"

    app.add_url_rule("/test/queue/<int:count>/<int:start>", "test_queue",
                     transactional(queue), methods=["POST"])
    server = make_server("127.0.0.1", port, app, threaded=True)
    print("ready", flush=True)
    server.serve_forever()


def deliver_loop(stop_file: Path) -> None:
    from buyergroup import create_app
    from buyergroup.extensions import db
    from buyergroup.mail.service import deliver_due

    app = create_app()
    sent = 0
    print("ready", flush=True)
    with app.app_context():
        while not stop_file.exists():
            sent += deliver_due()
            db.session.remove()
            time.sleep(0.01)
    print(f"sent {sent}", flush=True)


if __name__ == "__main__":
    mode, argument = sys.argv[1], sys.argv[2]
    if mode == "web":
        serve(int(argument))
    elif mode == "deliver-loop":
        deliver_loop(Path(argument))
    else:
        raise SystemExit(f"unknown mode {mode}")
