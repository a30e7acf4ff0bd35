/* ctl_correspondant — `dialogctl correspondant add|list|invite|password|disable|enable|
 * reset-2fa`: the accounts of the correspondants' console (accounts/correspondant.h), for
 * the operator and for scripts. Every change is audited (channel "console", requester
 * the operator's login).
 * Threads: dialogctl's only thread. */
#ifndef DIALOGD_CTL_CORRESPONDANT_H
#define DIALOGD_CTL_CORRESPONDANT_H

struct config;
struct engine;

/* Returns the process exit status: 0 done, 1 refused or failed (said on stderr), 2 usage. */
int ctl_correspondant(const struct engine *engine, const struct config *config, int argc, char **argv);

#endif
