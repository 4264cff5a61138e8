"""The shard autopoll replaced, rebuilt for measurement only: the capacity benchmark's baseline.

It reproduces the old design as docs/bridge/PROTOCOL.md ("The shard autopoll replaces")
describes it, so that autopoll can be timed against it on the same machine; it is not a shard
to run. A loop: fetch the unread messages for side `b` the way the bridge's get_messages does
(one BEGIN IMMEDIATE transaction: select, mark read, audit_log `get_messages {"count": n}`); for
each query, serially, run `claude -p "<prompt>"` as a new process with a 60 s timeout, then send
the response the way the bridge's send_message does (the message row with metadata
{"action_type": "response"}, and its audit_log row, one transaction); then sleep 5 s and fetch
again. Not reproduced: the bridge's 10/min send limit (it only made the old shard slower and
fail) and redaction (the fake API's answers hold no secrets).

Usage: seedShard.py DB CONVERSATION_ID CLAUDE_BIN MODEL
Runs until killed. Prints one JSON line per answer sent ({"query_id", "ok", "seconds"}).
"""
import json
import re
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone

POLL_SECONDS = 5
TIMEOUT_SECONDS = 60
SOURCE = re.compile(r"[\w./-]+\.\w+:\d+(?:-\d+)?")


def bridge_now():
    # datetime.utcnow().isoformat(), without the 3.12 deprecation: naive UTC, microseconds.
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat()


def fetch_unread(db, conversation_id):
    db.execute("BEGIN IMMEDIATE")
    rows = db.execute(
        "SELECT id, message FROM messages WHERE conversation_id = ? AND to_session = 'b' AND read = 0 ORDER BY timestamp",
        (conversation_id,),
    ).fetchall()
    db.executemany("UPDATE messages SET read = 1 WHERE id = ?", [(r[0],) for r in rows])
    db.execute(
        "INSERT INTO audit_log (conversation_id, session_id, action, details, timestamp) VALUES (?, 'b', 'get_messages', ?, ?)",
        (conversation_id, json.dumps({"count": len(rows)}), bridge_now()),
    )
    db.execute("COMMIT")
    return rows


def send(db, conversation_id, body):
    text = json.dumps(body)
    now = bridge_now()
    db.execute("BEGIN IMMEDIATE")
    db.execute(
        "INSERT INTO messages (conversation_id, from_session, to_session, message, metadata, timestamp) VALUES (?, 'b', 'a', ?, ?, ?)",
        (conversation_id, text, json.dumps({"action_type": "response"}), now),
    )
    db.execute(
        "INSERT INTO audit_log (conversation_id, session_id, action, details, timestamp) VALUES (?, 'b', 'send_message', ?, ?)",
        (conversation_id, json.dumps({"to": "a", "message_length": len(text), "redacted": False}), now),
    )
    db.execute("COMMIT")


def ask_claude(claude_bin, model, query):
    prompt = 'Answer briefly, citing sources as file:line.\n\n<question query_id="%s">\n%s\n</question>' % (query["query_id"], query.get("question", ""))
    try:
        done = subprocess.run([claude_bin, "-p", prompt, "--model", model], capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
        return done.returncode == 0, done.stdout.strip() or done.stderr.strip()
    except subprocess.TimeoutExpired:
        return False, "timed out after %d s" % TIMEOUT_SECONDS


def main():
    db_path, conversation_id, claude_bin, model = sys.argv[1:5]
    db = sqlite3.connect(db_path, timeout=10.0, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    while True:
        for _, message in fetch_unread(db, conversation_id):
            query = json.loads(message)
            if query.get("type") != "query":
                continue
            started = time.monotonic()
            ok, answer = ask_claude(claude_bin, model, query)
            seconds = round(time.monotonic() - started, 2)
            send(db, conversation_id, {
                "type": "response", "query_id": query["query_id"], "answer": answer, "sources": SOURCE.findall(answer),
                "shard_id": "haiku_seed_shard", "llm_type": "claude_p", "response_time_sec": seconds,
            })
            sys.stdout.write(json.dumps({"query_id": query["query_id"], "ok": ok, "seconds": seconds}) + "\n")
            sys.stdout.flush()
        time.sleep(POLL_SECONDS)


if __name__ == "__main__":
    main()
