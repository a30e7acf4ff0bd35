/* ctl_examples — teaching the assistant from the threads: `dialogctl examples mark
 * THREAD[:N] INTENT [AUDIENCE] --as NAME` says what a writer's message meant (the console
 * does the same from a thread's page), `dialogctl examples export [FILE]` writes every
 * marked message in the format of the dev set (text, intent, audience), for `dialogctl
 * eval` and for writing intents. Returns the process exit status. */
#ifndef DIALOGD_CTL_EXAMPLES_H
#define DIALOGD_CTL_EXAMPLES_H

int ctl_examples(const char *store_path, int argc, char **argv);

#endif
