"""Holds the bridge's write lock, again and again, as a slow writer of the bridge would.

Usage: bridgeLocker.py DB CONVERSATION_ID HOLD_MS RELEASE_MS SECONDS

Each cycle: BEGIN IMMEDIATE (the WAL write lock), a real write that changes nothing (the
conversation's expires_at set to itself), HOLD_MS of holding it, COMMIT, then RELEASE_MS free.
The connection is the bridge's: WAL, 10 s busy timeout, so if autopoll hogged the lock, the
locker's own wait to acquire it would show (acquire_ms) and past 10 s it would fail (counted).

Prints one JSON line per cycle ({"locked_at", "released_at" (Unix ms), "acquire_ms"}), one per
error ({"error"}), and a last line {"done": true, "cycles", "errors", "max_acquire_ms"}.
"""
import json
import sqlite3
import sys
import time


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    db_path, conversation_id = sys.argv[1], sys.argv[2]
    hold, release, seconds = float(sys.argv[3]) / 1000, float(sys.argv[4]) / 1000, float(sys.argv[5])
    db = sqlite3.connect(db_path, timeout=10.0, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    cycles = errors = 0
    max_acquire_ms = 0.0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.monotonic()
        try:
            db.execute("BEGIN IMMEDIATE")
            locked_at = time.time()
            acquire_ms = (time.monotonic() - started) * 1000
            max_acquire_ms = max(max_acquire_ms, acquire_ms)
            try:
                db.execute("UPDATE conversations SET expires_at = expires_at WHERE id = ?", (conversation_id,))
                time.sleep(hold)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            cycles += 1
            emit({"locked_at": round(locked_at * 1000), "released_at": round(time.time() * 1000), "acquire_ms": round(acquire_ms, 1)})
        except sqlite3.Error as err:
            errors += 1
            emit({"error": "%s: %s" % (type(err).__name__, err)})
        time.sleep(release)
    db.close()
    emit({"done": True, "cycles": cycles, "errors": errors, "max_acquire_ms": round(max_acquire_ms, 1)})


if __name__ == "__main__":
    main()
