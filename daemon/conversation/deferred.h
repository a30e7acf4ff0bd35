/* deferred — the account actions a turn leaves for after its reply. Whatever is done
 * for an existing account (a directory call, a reset token, a mail to the address on
 * file, a one-time code) takes time a miss does not: done inside the turn, it delayed the
 * requester's reply by a few milliseconds only when an account existed, which anyone can
 * measure (issue 14). So the turn records the request (store: deferred_actions) in its
 * transaction and answers at once with the same text whatever exists; the channel, once
 * the reply is out of its hands (queued and the sender woken, or written to the chat),
 * runs the pending actions here, each in a transaction of its own: the same work for a
 * hit and a miss happens after the reply, and a secret mail is always queued after it.
 * A directory that cannot answer hands the thread to a person, tells the correspondants,
 * and tells the requester on the thread's channel.
 * Threads: any thread, on its own store connection and directory; settings and engine
 * borrowed for the call. Never logs: the caller logs what it returns. */
#ifndef DIALOGD_DEFERRED_H
#define DIALOGD_DEFERRED_H

struct action_settings;
struct directory;
struct engine;
struct store;

/* Runs every pending action, oldest first. Returns how many ran (*queued_r: the mails
 * they queued), or -1 with *error_r (caller frees) when the store failed: that action
 * stays pending for the next call. */
int conversation_run_deferred(const struct action_settings *settings, struct store *store,
			      struct directory *directory, const struct engine *engine, unsigned *queued_r,
			      char **error_r);

#endif
