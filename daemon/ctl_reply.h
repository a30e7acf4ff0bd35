/* ctl_reply — `dialogctl reply THREAD [--as NAME] [--take-over]`: a person's answer, read
 * on standard input, sent in a thread through the conversation layer (conversation_take,
 * then conversation_reply), as the correspondants' console will: by mail in the writer's
 * thread (the running dialogd sends it), or as the chat's next line. Audited with NAME.
 * Threads: dialogctl's only thread. */
#ifndef DIALOGD_CTL_REPLY_H
#define DIALOGD_CTL_REPLY_H

struct config;
struct engine;

/* Returns the process exit status: 0 sent, 1 refused or failed (said on stderr), 2 usage. */
int ctl_reply(const struct engine *engine, const struct config *config, int argc, char **argv);

#endif
