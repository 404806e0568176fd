"""One "instance" for the rate-limit tests: sign-in attempts through an app of its own.

``python -m tests.cluster.limiter_worker DATABASE_URL STORAGE_URI PREFIX EMAIL WRONG RIGHT``
makes WRONG failed sign-ins for EMAIL, then RIGHT with the right password, and prints the
status codes as JSON. Run in a process of its own: Flask-Limiter's extension object is one
per process, and so is its in-memory storage, which is the point.
"""

from __future__ import annotations

import json
import sys

from buyergroup import create_app
from tests.conftest import CHEAP_PASSWORD_HASHING, TEST_PASSWORD


def main(database_url: str, storage: str, prefix: str, email: str, wrong: int,
         right: int) -> list[int]:
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret-key-that-is-long-enough",
        "SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": False,
        "RATELIMIT_STORAGE_URI": storage, "RATELIMIT_KEY_PREFIX": prefix,
        "LOGIN_RATE_LIMIT_PER_ACCOUNT": "5 per 5 minutes", **CHEAP_PASSWORD_HASHING,
    })
    client = app.test_client()
    statuses = []
    for password in ["wrong password"] * wrong + [TEST_PASSWORD] * right:
        statuses.append(client.post("/login", data={"email": email, "password": password})
                        .status_code)
        client.post("/logout")
    return statuses


if __name__ == "__main__":
    url, storage, prefix, email, wrong, right = sys.argv[1:7]
    print(json.dumps(main(url, storage, prefix, email, int(wrong), int(right))))
