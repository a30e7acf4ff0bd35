/* ctl_backup — dialogctl backup FILE (a copy of the store while dialogd runs: SQLite's
 * online backup) and dialogctl restore FILE (put back, dialogd stopped; migrated if it is
 * older). Each returns the process exit status. */
#ifndef DIALOGD_CTL_BACKUP_H
#define DIALOGD_CTL_BACKUP_H

int ctl_backup(const char *store_path, int argc, char **argv);
int ctl_restore(const char *store_path, int argc, char **argv);

#endif
