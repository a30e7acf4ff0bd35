-- The schema string of daemon/store.c at commit 007b552 (user_version 1), one statement a line.
CREATE TABLE IF NOT EXISTS mailbox_state (  mailbox TEXT PRIMARY KEY, uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS processed (  mailbox TEXT NOT NULL, key TEXT NOT NULL, thread_id INTEGER, at INTEGER NOT NULL,  PRIMARY KEY (mailbox, key));
CREATE TABLE IF NOT EXISTS attempts (  mailbox TEXT NOT NULL, key TEXT NOT NULL, count INTEGER NOT NULL, at INTEGER NOT NULL,  PRIMARY KEY (mailbox, key));
CREATE TABLE IF NOT EXISTS threads (  id INTEGER PRIMARY KEY, channel TEXT NOT NULL, requester TEXT NOT NULL, subject TEXT NOT NULL,  state TEXT NOT NULL, intent TEXT, reason TEXT, created INTEGER NOT NULL, updated INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS threads_state ON threads (state, updated);
CREATE TABLE IF NOT EXISTS messages (  id INTEGER PRIMARY KEY, thread_id INTEGER NOT NULL REFERENCES threads(id) ON DELETE CASCADE,  direction TEXT NOT NULL, message_id TEXT, sender TEXT, recipient TEXT, subject TEXT, body TEXT,  intent TEXT, confidence REAL, decision TEXT, note TEXT, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS messages_thread ON messages (thread_id, id);
CREATE INDEX IF NOT EXISTS messages_message_id ON messages (message_id);
CREATE TABLE IF NOT EXISTS outbox (  id INTEGER PRIMARY KEY, thread_id INTEGER, kind TEXT NOT NULL, message_id TEXT NOT NULL UNIQUE,  mail_from TEXT NOT NULL, recipient TEXT NOT NULL, raw BLOB NOT NULL, state TEXT NOT NULL,  attempts INTEGER NOT NULL DEFAULT 0, permanent_failures INTEGER NOT NULL DEFAULT 0,  next_attempt INTEGER NOT NULL, created INTEGER NOT NULL, sent_at INTEGER, last_error TEXT);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt);
CREATE INDEX IF NOT EXISTS outbox_recipient_nocase ON outbox (recipient COLLATE NOCASE, created);
DROP INDEX IF EXISTS outbox_recipient;
CREATE INDEX IF NOT EXISTS outbox_thread ON outbox (thread_id, kind, created);
CREATE TABLE IF NOT EXISTS bounces (address TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS bounces_address ON bounces (address, at);
CREATE TABLE IF NOT EXISTS status (  component TEXT PRIMARY KEY, state TEXT NOT NULL, detail TEXT, since INTEGER NOT NULL,  updated INTEGER NOT NULL);
PRAGMA user_version = 1;
