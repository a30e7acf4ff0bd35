/* ctl_store — dialogctl threads / thread / outbox / status / audit / purge: what the daemon did, read
 * from the store named by the configuration. Each returns the process exit status. */
#ifndef DIALOGD_CTL_STORE_H
#define DIALOGD_CTL_STORE_H

int ctl_threads(const char *store_path, int argc, char **argv);
int ctl_thread(const char *store_path, int argc, char **argv);
int ctl_outbox(const char *store_path, int argc, char **argv);
int ctl_status(const char *store_path);
/* audit [--json]: the account actions, newest first. */
int ctl_audit(const char *store_path, int argc, char **argv);
/* purge --older-than DAYS: old threads and audit rows removed in one transaction. */
/* purge [--older-than DAYS]: without it, [store] retention_days (default_days). */
int ctl_purge(const char *store_path, unsigned long default_days, int argc, char **argv);

#endif
