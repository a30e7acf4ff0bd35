-- One or two rows for every table of the store, one INSERT a line (tests/unit/test_store.c runs
-- the lines whose table exists in the schema it builds). Values of every kind a column
-- holds: text with accents, NULL, integers, a real, a blob.
INSERT INTO mailbox_state (mailbox, uidvalidity, last_uid) VALUES ('INBOX', 1700000001, 42);
INSERT INTO processed (mailbox, key, thread_id, at) VALUES ('INBOX', '<q1@client.example>', 100, 1700000100);
INSERT INTO processed (mailbox, key, thread_id, at) VALUES ('INBOX', 'sha256:9f86d081884c7d659a2feaa0c55ad015', NULL, 1700000101);
INSERT INTO attempts (mailbox, key, count, at) VALUES ('INBOX', '<crash@client.example>', 2, 1700000200);
INSERT INTO threads (id, channel, requester, subject, state, intent, reason, created, updated) VALUES (100, 'mail', 'j.moreau@scierie-des-combes.example', 'Réinitialiser mon mot de passe', 'answered', 'password_reset', NULL, 1700000100, 1700000160);
INSERT INTO threads (id, channel, requester, subject, state, intent, reason, created, updated) VALUES (101, 'mail', 'inconnu@example.test', 'Question sur une facture', 'escalated', NULL, 'confiance trop faible', 1700000300, 1700000300);
INSERT INTO messages (id, thread_id, direction, message_id, sender, recipient, subject, body, intent, confidence, decision, note, at) VALUES (100, 100, 'in', '<q1@client.example>', 'j.moreau@scierie-des-combes.example', 'dialoguer@ocapiat.test', 'Réinitialiser mon mot de passe', 'Bonjour, j''ai oublié mon mot de passe.', 'password_reset', 0.875, 'answer', NULL, 1700000100);
INSERT INTO messages (id, thread_id, direction, message_id, sender, recipient, subject, body, intent, confidence, decision, note, at) VALUES (101, 101, 'in', NULL, 'inconnu@example.test', NULL, NULL, 'Facture n° 12 ?', NULL, NULL, NULL, 'pièce jointe facture.pdf (12034 octets)', 1700000300);
INSERT INTO outbox (id, thread_id, kind, message_id, mail_from, recipient, raw, state, attempts, permanent_failures, next_attempt, created, sent_at, last_error) VALUES (100, 100, 'reply', '<r1@ocapiat.test>', 'dialoguer@ocapiat.test', 'j.moreau@scierie-des-combes.example', X'5375626A6563743A2052653A0D0A0D0A426F6E6A6F75720D0A', 'sent', 1, 0, 1700000160, 1700000150, 1700000160, NULL);
INSERT INTO outbox (id, thread_id, kind, message_id, mail_from, recipient, raw, state, attempts, permanent_failures, next_attempt, created, sent_at, last_error) VALUES (101, NULL, 'notification', '<n1@ocapiat.test>', 'dialoguer@ocapiat.test', 'correspondant.est@ocapiat.test', X'00FF0D0A', 'failed', 5, 1, 1700009999, 1700000310, NULL, '550 5.1.1 no such user');
INSERT INTO deferred_notices (id, thread_id, reason, at) VALUES (100, 101, 'confiance trop faible', 1700000301);
INSERT INTO bounces (address, at) VALUES ('ancien@example.test', 1700000400);
INSERT INTO status (component, state, detail, since, updated) VALUES ('imap', 'error', 'connexion refusée', 1700000500, 1700000560);
INSERT INTO status (component, state, detail, since, updated) VALUES ('smtp', 'ok', NULL, 1700000000, 1700000560);
INSERT INTO companies (siret, name, kind, correspondant_email) VALUES ('55210055400013', 'Vergers d''Été', 'entreprise', NULL);
INSERT INTO accounts (identifier, email, kind, state) VALUES ('VETE01', 'contact@vergers-ete.example', 'entreprise', 'active');
INSERT INTO account_links (identifier, siret) VALUES ('VETE01', '55210055400013');
INSERT INTO dossiers (number, type, state, siret, training_org_siret, deca_number, start_date, amount_cents) VALUES ('AF-2024-000100', 'action de formation', 'accordé', '55210055400013', NULL, NULL, '2024-01-15', 123456);
INSERT INTO audit (id, at, channel, requester, action, subject, outcome) VALUES (100, 1700000600, 'mail', 'contact@vergers-ete.example', 'password_reset', 'VETE01', 'sent');
INSERT INTO reset_tokens (id, identifier, token_hash, created, expires, used_at, revoked_at) VALUES (100, 'VETE01', 'b5d4045c3f466fa91fe2cc6abe79232a1a57cdf104f7a26e716e0a1e2789df78', 1700000600, 1700002400, NULL, 1700000700);
INSERT INTO account_passwords (identifier, hash, set_at) VALUES ('VETE01', '$argon2id$v=19$m=65536,t=3,p=1$c2VsZGVtZXI$0123456789abcdefghijklmnopqrstuv', 1700000800);
INSERT INTO chat_actions (thread_id, action, step, subject, email, code_hash, expires, attempts) VALUES (101, 'dossier_status', 'code', 'AF-2024-000100', 'contact@vergers-ete.example', 'c2FsdA$aGFzaA', 1700000900, 1);
INSERT INTO wrong_codes (id, at, visitor, email, code_sent) VALUES (100, 1700000850, 'web:203.0.113.7', 'contact@vergers-ete.example', 1);
