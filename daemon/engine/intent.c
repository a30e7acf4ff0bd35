/* intent — the public contract of the intents: the ids and kinds of spec/intents.tsv,
 * the names of kinds, actions and audiences, and a loaded set's accessors.
 * The rest of the module: intent_load.c reads intents/, intent_dispatch.c prepares the
 * fast path, intent_match.c scores a message (intent_int.h holds what they share). */
#include "autoconf.h"
#include "engine/intent_int.h"
#include "core/util.h"

#include <string.h>

/* spec/intents.tsv: ids and kinds, the public contract. */
static const struct {
	const char *id;
	enum intent_kind kind;
} spec[] = {
	{ "login_trouble", INTENT_FAQ }, { "password_reset", INTENT_ACTION },
	{ "identifier_reminder", INTENT_ACTION }, { "dossier_status", INTENT_ACTION },
	{ "change_account_email", INTENT_FAQ }, { "email_not_referenced", INTENT_FAQ },
	{ "choose_funding_scheme", INTENT_FAQ }, { "modify_submitted_request", INTENT_FAQ },
	{ "send_supporting_documents", INTENT_FAQ }, { "find_deca_number", INTENT_FAQ },
	{ "print_apprenticeship_cerfa", INTENT_FAQ }, { "report_apprenticeship_termination", INTENT_FAQ },
	{ "report_pro_contract_termination", INTENT_FAQ }, { "pro_contract_minimum_age", INTENT_FAQ },
	{ "pro_contract_short_after_termination", INTENT_FAQ }, { "apprentice_forfait_jour", INTENT_FAQ },
	{ "change_company_address_siret", INTENT_FAQ }, { "update_bank_details", INTENT_FAQ },
	{ "add_company_to_account", INTENT_FAQ }, { "company_not_found_when_adding", INTENT_FAQ },
	{ "add_training_establishment", INTENT_FAQ }, { "magestic_user_admin", INTENT_FAQ },
	{ "add_employee_trainee", INTENT_FAQ }, { "training_org_not_listed", INTENT_FAQ },
	{ "submit_invoice", INTENT_FAQ }, { "submit_expense_receipts", INTENT_FAQ },
	{ "payment_details", INTENT_FAQ }, { "pay_contributions", INTENT_FAQ },
	{ "pay_voluntary_calls", INTENT_FAQ }, { "dashboard_reporting_contents", INTENT_FAQ },
	{ "export_reporting_data", INTENT_FAQ }, { "filter_reporting_data", INTENT_FAQ },
	{ "reporting_start_year", INTENT_FAQ }, { "cse_stats_by_trainee_or_individual", INTENT_FAQ },
	{ "training_rate_calculation", INTENT_FAQ }, { "human_handoff", INTENT_HANDOFF },
	{ "greeting", INTENT_CHAT }, { "thanks", INTENT_CHAT },
};

#define SPEC_COUNT (sizeof(spec) / sizeof(*spec))

size_t
intent_spec_count(void)
{
	return SPEC_COUNT;
}

const char *
intent_spec_id(size_t i)
{
	return spec[i].id;
}

enum intent_kind
intent_spec_kind(size_t i)
{
	return spec[i].kind;
}

bool
intent_id_is_valid(const char *id)
{
	if (strcmp(id, "unknown") == 0)
		return true;
	for (size_t i = 0; i < SPEC_COUNT; i++)
		if (strcmp(spec[i].id, id) == 0)
			return true;
	return false;
}

int
intent_spec_index(const char *id)
{
	for (size_t i = 0; i < SPEC_COUNT; i++)
		if (strcmp(spec[i].id, id) == 0)
			return (int)i;
	return -1;
}

static const char *const kind_names[] = { "faq", "action", "handoff", "chat" };
static const char *const action_names[] = { NULL, "identifier_reminder", "password_reset", "dossier_status" };

const char *
account_action_name(enum account_action action)
{
	return (size_t)action < sizeof(action_names) / sizeof(*action_names) ? action_names[action] : NULL;
}

enum account_action
account_action_from_name(const char *name)
{
	int action = NAME_INDEX(action_names, name);
	return action <= 0 ? ACCOUNT_ACTION_NONE : (enum account_action)action;
}

const char *
intent_kind_name(enum intent_kind kind)
{
	return kind_names[kind];
}

int
intent_kind_from_name(const char *name, enum intent_kind *kind_r)
{
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(*kind_names); i++) {
		if (strcmp(name, kind_names[i]) == 0) {
			*kind_r = (enum intent_kind)i;
			return 0;
		}
	}
	return -1;
}

const char *
audience_name(enum audience audience)
{
	switch (audience) {
	case AUDIENCE_ENTREPRISE: return "entreprise";
	case AUDIENCE_ORGANISME: return "organisme";
	default: return "unknown";
	}
}

size_t
intent_set_count(const struct intent_set *set)
{
	return set->count;
}

size_t
intent_set_pattern_count(const struct intent_set *set)
{
	return set->pattern_count + set->cue_count;
}

const struct intent_def *
intent_set_get(const struct intent_set *set, size_t i)
{
	return &set->intents[i].def;
}

const struct intent_def *
intent_set_find(const struct intent_set *set, const char *id)
{
	for (size_t i = 0; i < set->count; i++)
		if (set->intents[i].id != NULL && strcmp(set->intents[i].id, id) == 0)
			return &set->intents[i].def;
	return NULL;
}
