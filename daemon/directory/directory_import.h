/* directory_import — fills the embedded directory from CSV files (`dialogctl import`):
 * companies.csv (siret,name,kind,correspondant_email), accounts.csv
 * (identifier,email,kind,siret,state), dossiers.csv
 * (number,type,state,siret,training_org_siret,deca_number,start_date,amount).
 * CSV read with libcsv (RFC 4180 quoting); the first line names the columns (any order,
 * extra columns ignored). Every value is checked (SIRET with its Luhn key, e-mail,
 * closed lists, dates, amounts, lengths, no control characters) and every bad line is
 * reported as "file:line: reason"; the import is one transaction: all or nothing.
 * Never logs.
 * Threads: dialogctl's only thread, on its own store connection. */
#ifndef DIALOGD_DIRECTORY_IMPORT_H
#define DIALOGD_DIRECTORY_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

struct store;

enum directory_table { DIRECTORY_COMPANIES, DIRECTORY_ACCOUNTS, DIRECTORY_DOSSIERS };

/* The table for "companies", "accounts" or "dossiers"; -1 for anything else. */
int directory_table_from_name(const char *name);

/* Imports path into table. Returns the number of rows imported, or -1 with every
 * problem in *error_r (nothing imported). */
long directory_import(struct store *store, enum directory_table table, const char *path, char **error_r);

/* A SIRET: 14 digits (spaces allowed and removed) with a valid Luhn key (La Poste's
 * establishments, SIREN 356000000, use a digit sum multiple of 5). Writes the 14 digits
 * to out[15]. */
bool directory_siret_normalize(const char *text, char out[15]);

#endif
