"""Side `a` of the bridge as its Python MCP server (SecureBridge) writes it: a loop of queries.

Usage: bridgeWriter.py DB CONVERSATION_ID TAG SECONDS INTERVAL_MS

Each query is one send_message as the bridge makes it (PROTOCOL.md, src/bridge/BridgeClient.ts):
in a BEGIN IMMEDIATE transaction, the message row (the whole text and the metadata JSON redacted,
Python json.dumps formatting, naive UTC isoformat() timestamp) and its audit_log row
send_message {"to": "b", "message_length": n, "redacted": bool} with the same timestamp. The
connection is the bridge's: WAL, 10 s busy timeout. A write that fails (SQLITE_BUSY past the busy
timeout, or anything else) is counted, not retried: the bridge's own writers give up the same way.

Prints one JSON line per query written ({"id", "query_id", "wait_ms"}), one per error
({"error"}), and a last line {"done": true, "written", "errors", "max_wait_ms"}.
"""
import json
import re
import sqlite3
import sys
import time
from datetime import datetime, timezone

# The bridge's redaction rules, in its order (PROTOCOL.md).
REDACTIONS = [
    (re.compile(r"AKIA[0-9A-Z]{16}", re.S), "AWS_KEY_REDACTED"),
    (re.compile(r"-----BEGIN[^-]+PRIVATE KEY-----.*?-----END[^-]+PRIVATE KEY-----", re.S), "PRIVATE_KEY_REDACTED"),
    (re.compile(r"Bearer [A-Za-z0-9\-._~+/]+=*", re.S), "BEARER_TOKEN_REDACTED"),
    (re.compile(r"(?i)password[\"\s:=]+[^\s\"]+", re.S), "PASSWORD_REDACTED"),
    (re.compile(r"(?i)api[_-]?key[\"\s:=]+[^\s\"]+", re.S), "API_KEY_REDACTED"),
    (re.compile(r"(?i)secret[\"\s:=]+[^\s\"]+", re.S), "SECRET_REDACTED"),
    (re.compile(r"ghp_[A-Za-z0-9]{36}", re.S), "GITHUB_TOKEN_REDACTED"),
    (re.compile(r"sk-[A-Za-z0-9]{48}", re.S), "OPENAI_KEY_REDACTED"),
]


def redact(text):
    for pattern, replacement in REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def bridge_now():
    # datetime.utcnow().isoformat(), without the 3.12 deprecation: naive UTC, microseconds.
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat()


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    db_path, conversation_id, tag, seconds, interval_ms = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
    db = sqlite3.connect(db_path, timeout=10.0, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    written = errors = 0
    max_wait_ms = 0.0
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        query_id = "%s_%d" % (tag, n)
        n += 1
        text = json.dumps({"type": "query", "query_id": query_id, "question": "question %s" % query_id})
        started = time.monotonic()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                message = redact(text)
                metadata = redact(json.dumps({"action_type": "question"}))
                now = bridge_now()
                cur = db.execute(
                    "INSERT INTO messages (conversation_id, from_session, to_session, message, metadata, timestamp) VALUES (?, ?, ?, ?, ?, ?)",
                    (conversation_id, "a", "b", message, metadata, now),
                )
                message_id = cur.lastrowid
                details = json.dumps({"to": "b", "message_length": len(message), "redacted": message != text})
                db.execute(
                    "INSERT INTO audit_log (conversation_id, session_id, action, details, timestamp) VALUES (?, ?, ?, ?, ?)",
                    (conversation_id, "a", "send_message", details, now),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            wait_ms = (time.monotonic() - started) * 1000
            max_wait_ms = max(max_wait_ms, wait_ms)
            written += 1
            emit({"id": message_id, "query_id": query_id, "wait_ms": round(wait_ms, 1)})
        except sqlite3.Error as err:
            errors += 1
            emit({"error": "%s: %s" % (type(err).__name__, err), "query_id": query_id, "after_ms": round((time.monotonic() - started) * 1000, 1)})
        time.sleep(interval_ms / 1000)
    db.close()
    emit({"done": True, "written": written, "errors": errors, "max_wait_ms": round(max_wait_ms, 1)})


if __name__ == "__main__":
    main()
