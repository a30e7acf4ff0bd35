/* Tests of mail_parse and html_text: the 30 real-world samples of tests/data/mail (see
 * manifest.tsv), then hostile and malformed inputs written here. Every parse goes through
 * check_output(), which fails on any string that is not valid UTF-8 or holds a CR. */
#include "autoconf.h"
#include "testutil.h"
#include "formats/html_text.h"
#include "formats/mail_parse.h"
#include "core/text.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ---- */

enum { MULTI_LINE, ONE_LINE, NO_NEWLINE /* tabs allowed: raw header values */ };

static void
check_string(const char *what, const char *s, int lines)
{
	if (s == NULL)
		return;
	char *err = NULL;
	if (text_validate(s, strlen(s), &err) < 0) {
		print_error("%s: %s\n", what, err);
		free(err);
		fail();
	}
	if (strchr(s, '\r') != NULL) {
		print_error("%s holds a CR\n", what);
		fail();
	}
	if (lines != MULTI_LINE && (strchr(s, '\n') != NULL || (lines == ONE_LINE && strchr(s, '\t') != NULL))) {
		print_error("%s is not on one line: [%s]\n", what, s);
		fail();
	}
}

/* Every string of a parsed mail is valid UTF-8 without CR; single values are one line. */
static void
check_output(const struct parsed_mail *m)
{
	for (size_t i = 0; i < m->header_count; i++) {
		check_string("header name", m->headers[i].name, ONE_LINE);
		check_string("header value", m->headers[i].value, NO_NEWLINE);
	}
	check_string("message_id", m->message_id, ONE_LINE);
	check_string("in_reply_to", m->in_reply_to, ONE_LINE);
	for (size_t i = 0; i < m->reference_count; i++)
		check_string("reference", m->references[i], ONE_LINE);
	check_string("from_address", m->from_address, ONE_LINE);
	check_string("from_name", m->from_name, ONE_LINE);
	check_string("reply_to_address", m->reply_to_address, ONE_LINE);
	check_string("sender_address", m->sender_address, ONE_LINE);
	for (size_t i = 0; i < m->to_count; i++)
		check_string("to", m->to_addresses[i], ONE_LINE);
	check_string("return_path", m->return_path, ONE_LINE);
	assert_non_null(m->subject);
	check_string("subject", m->subject, ONE_LINE);
	check_string("date", m->date, ONE_LINE);
	assert_non_null(m->body);
	check_string("body", m->body, MULTI_LINE);
	for (size_t i = 0; i < m->bounced_count; i++)
		check_string("bounced", m->bounced_recipients[i], ONE_LINE);
	for (size_t i = 0; i < m->attachment_count; i++) {
		check_string("filename", m->attachments[i].filename, ONE_LINE);
		check_string("content_type", m->attachments[i].content_type, ONE_LINE);
	}
	for (size_t i = 0; i < m->note_count; i++)
		check_string("note", m->notes[i], ONE_LINE);
	char *q = mail_question_text(m);
	check_string("question", q, MULTI_LINE);
	free(q);
}

/* Parses len bytes copied into a buffer of exactly that size, so that ASan catches any
 * read past the end. */
static void
parse_bytes(const char *raw, size_t len, struct parsed_mail *m)
{
	char *exact = xmalloc(len ? len : 1);
	memcpy(exact, raw, len);
	char *err = NULL;
	int rc = mail_parse(exact, len, m, &err);
	if (rc != 0) {
		print_error("mail_parse: %s\n", err ? err : "(no error)");
		fail();
	}
	free(exact);
	check_output(m);
}

static void
parse_str(const char *raw, struct parsed_mail *m)
{
	parse_bytes(raw, strlen(raw), m);
}

static void
parse_sample(const char *name, struct parsed_mail *m)
{
	char *path = xasprintf("%s/mail/%s", TEST_DATA_DIR, name);
	char *err = NULL;
	size_t len;
	char *raw = file_read_all(path, 1 << 20, &len, &err);
	if (raw == NULL) {
		print_error("%s\n", err);
		fail();
	}
	parse_bytes(raw, len, m);
	free(raw);
	free(path);
}

static bool
has_note(const struct parsed_mail *m, const char *part)
{
	for (size_t i = 0; i < m->note_count; i++)
		if (strstr(m->notes[i], part) != NULL)
			return true;
	return false;
}

static void
assert_note(const struct parsed_mail *m, const char *part)
{
	if (!has_note(m, part)) {
		print_error("no note containing [%s]; notes:\n", part);
		for (size_t i = 0; i < m->note_count; i++)
			print_error("  %s\n", m->notes[i]);
		fail();
	}
}

/* ---- the samples ---- */

static void
test_samples(void **state)
{
	(void)state;
	static const struct {
		const char *file;
		const char *subject;
		const char *from;
		const char *name;       /* NULL: none */
		const char *sentence;   /* in the body, decoded */
		bool html;
	} cases[] = {
		{ "a01.eml", "Impossible de me connecter \xC3\xA0 mon espace", "marie.dupont@vergers-du-sud.example", "Marie Dupont",
		  "Que dois-je faire pour retrouver l'acc\xC3\xA8s \xC3\xA0 notre espace ?", false },
		{ "a02.eml", "Mot de passe oubli\xC3\xA9", "f.berange@cave-saint-eloi.example", "Fran\xC3\xA7ois B\xC3\xA9rang\xC3\xA9",
		  "J'ai \xC3\xA9gar\xC3\xA9 mon mot de passe pour acc\xC3\xA9" "der \xC3\xA0 l'extranet OCAPIAT et je dois absolument saisir", false },
		{ "a03.eml", "R\xC3\xA9ponse automatique\xC2\xA0: Votre contrat d'apprentissage n\xC2\xB0 CA-2023-0051277",
		  "m.giraud@malterie-champagne.example", "M\xC3\xA9lanie Giraud", "avec un acc\xC3\xA8s tr\xC3\xA8s limit\xC3\xA9 \xC3\xA0 ma messagerie.", false },
		{ "a04.eml", "Virement re\xC3\xA7u sans d\xC3\xA9tail \xE2\x80\x93 comment savoir \xC3\xA0 quoi il correspond ?",
		  "compta@fournil-et-coeur.example", "H\xC3\xA9l\xC3\xA8ne Rocher", "un virement d\xE2\x80\x99OCAPIAT de 3 412,50 \xE2\x82\xAC avec", false },
		{ "a05.eml", "Suivi de notre demande de prise en charge", "j.moreau@scierie-des-combes.example", "Julien Moreau",
		  "Pouvez-vous me dire o\xC3\xB9 en est ce dossier et s'il sera accord\xC3\xA9", false },
		{ "a06.eml", "Courrier de relance de pi\xC3\xA8" "ces - contrat de professionnalisation", "claire.lefebvre@laiterie-du-bocage.example",
		  "Lefebvre, Claire", "ne vois pas o\xC3\xB9 les d\xC3\xA9poser : comment dois-je vous transmettre ces pi\xC3\xA8" "ces ?", false },
		{ "a07.eml", "Recherche apprentissage BTS viti-oeno", "lucas.petit2004@webmel.example", NULL,
		  "un BTS Viticulture-\xC5\x92nologie en apprentissage \xC3\xA0 la rentr\xC3\xA9" "e de septembre.", false },
		{ "a08.eml", "Num\xC3\xA9ro DECA contrat d'apprentissage", "earl.moulinblanc@webmel.example", "Thomas Garnier",
		  "O\xC3\xB9 est-ce que je peux trouver ce num\xC3\xA9ro DECA dans mon espace ?", false },
		{ "a09.eml", "Imprimer le CERFA du contrat d'apprentissage", "n.belkacem@paysages-belkacem.example", "Nadia Belkacem",
		  "Comment puis-je imprimer le CERFA ? Je ne trouve aucun bouton d'impression sur l'\xC3\xA9" "cran de saisie.", true },
		{ "a10.eml", "Undelivered Mail Returned to Sender", "MAILER-DAEMON@mx1.ocapiat.test", "Mail Delivery System",
		  "your message could not\nbe delivered to one or more recipients.", false },
		{ "a11.eml", "Changement de RIB", "py.legoff@armement-legoff.example", "Pierre-Yves Le Goff",
		  "vous trouverez ci-joint notre nouveau RIB (nous passons du Cr\xC3\xA9" "dit Maritime", false },
		{ "a12.eml", "Message d\xE2\x80\x99" "erreur \xC3\xA0 la connexion", "s.roux@pepinieres-roux.example", "Sebastien Roux",
		  "J'ai cr\xC3\xA9\xC3\xA9 hier mon compte utilisateur pour la p\xC3\xA9pini\xC3\xA8re. Quand", false },
		{ "a13.eml", "Changement d'adresse mail pour notre compte utilisateur", "elodie.martinez@domaine-des-aubiers.example",
		  "\xC3\x89lodie Martinez", "Je souhaiterais donc modifier l'adresse mail utilis\xC3\xA9" "e", false },
		{ "a14.eml", "Demande de rappel par notre conseill\xC3\xA8re", "r.guerin@coop-diois.example", "Rapha\xC3\xABl Gu\xC3\xA9rin",
		  "J\xE2\x80\x99" "ai besoin d\xE2\x80\x99" "en parler de vive voix avec elle : il s\xE2\x80\x99" "agit", false },
		{ "a15.eml", "Rupture du contrat d'apprentissage de notre apprenti boucher-charcutier pendant la p\xC3\xA9riode d'essai",
		  "gerard.thevenet@charcuterie-thevenet.example", "G\xC3\xA9rard Th\xC3\xA9venet",
		  "Comment signaler cette rupture de contrat d'apprentissage \xC3\xA0 OCAPIAT ?", false },
		{ "a16.eml", "[rh-agri] Rupture contrat de pro : comment d\xC3\xA9" "clarer ?", "herve.colin@earl-colin.example",
		  "Herv\xC3\xA9 Colin", "comment on d\xC3\xA9" "clare la rupture du\ncontrat de pro", false },
		{ "a17.eml", "RE: Demande de financement formation CACES R482", "vincent.caron.paysage@webmel.example", "Vincent Caron",
		  "j'ai indiqu\xC3\xA9 1 450 \xE2\x82\xAC HT au lieu de 1 540 \xE2\x82\xAC HT", false },
		{ "a18.eml", "TR: Ajout de la filiale sur le compte OCAPIAT", "as.perrin@jardins-de-louest.example", "Anne-Sophie Perrin",
		  "Comment ajouter cette entreprise \xC3\xA0 mon compte utilisateur ?", false },
		{ "a19.eml", "Contestation refus de prise en charge - dossier 2023-AF-0391876", "m.royer@confiturerie-royer.example",
		  "Maxime Royer", "Nous contestons donc cette d\xC3\xA9" "cision et demandons le r\xC3\xA9" "examen du dossier.", false },
		{ "a20.eml", "Quel dispositif choisir pour notre demande de financement ?", "s.marchand@eta-marchand.example",
		  "Sophie Marchand", "ETA Marchand & Associ\xC3\xA9s \xE2\x80\x93 Travaux agricoles et forestiers", false },
		{ "a21.eml", "RE: Mot de passe \xC3\xA9gar\xC3\xA9", "dialoguer@ocapiat.test", "Dialoguer avec OCAPIAT",
		  "> J'ai \xC3\xA9gar\xC3\xA9 mon mot de passe. Comment faire ?", false },
		{ "a22.eml", "J'ai oubli\xC3\xA9 mon identifiant de connexion, pouvez-vous me le rappeler ?",
		  "cyril.lemoine@scea-lemoine.example", "Cyril Lemoine", "", false },
		{ "a23.eml", "D\xC3\xA9" "claration et versement de nos contributions l\xC3\xA9gales et conventionnelles 2023 : comment faire ?",
		  "paie@salaisons-du-velay.example", "Service paie", "cf objet", false },
		{ "a24.eml", "Salariee absente de ma liste pour une inscription", "k.bertin@conserverie-bertin.example", "Kevin Bertin",
		  "Je dois inscrire \xC3\xA0 la formation \xC2\xAB Hygi\xC3\xA8ne en industrie agroalimentaire \xC2\xBB", false },
		{ "a25.eml", "Document en attente de votre signature : Convention de formation n\xC2\xB0 2023-0457",
		  "no-reply@parapheur-en-ligne.test", "Parapheur \xC3\xA9lectronique", "Une question ? Consultez notre centre d'aide", false },
		{ "a26.eml", "Contrat apprentissage In\xC3\xA8s Carpentier", "audrey.lemaire@serres-lemaire.example", "Audrey Lemaire",
		  "N\xC2\xB0 de dossier : CA-2023-0098412.", false },
		{ "a27.eml", "Devenir prestataire des actions collectives", "j.aubry@vitiform-conseil.example", "J\xC3\xA9r\xC3\xB4me Aubry",
		  "Nous sommes un organisme de formation sp\xC3\xA9" "cialis\xC3\xA9 dans les m\xC3\xA9tiers de la viticulture", false },
		{ "a28.eml", "Contrat de pro avant 16 ans ?", "contact@haras-de-la-pree.example", "Laurent Faure",
		  "Est-ce la m\xC3\xAAme chose pour le contrat de professionnalisation, ou faut-il attendre ses 16 ans", false },
		{ "a29.eml", "Re: Votre demande concernant le contrat d'apprentissage", "b.lefort@domaine-lefort.example", "Bruno Lefort",
		  "Je suis en cong\xC3\xA9s jusqu'au 21 ao\xC3\xBBt inclus", false },
		{ "a30.eml", "Exporter les donnees du reporting pour le CSE", "isabelle.nguyen@sucrier-du-nord.example", "Isabelle Nguyen",
		  "le tableau \xC2\xAB Mes dossiers financ\xC3\xA9s \xC2\xBB du reporting", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct parsed_mail m;
		parse_sample(cases[i].file, &m);
		print_message("%s\n", cases[i].file);
		assert_string_equal(m.subject, cases[i].subject);
		assert_non_null(m.from_address);
		assert_string_equal(m.from_address, cases[i].from);
		if (cases[i].name == NULL)
			assert_null(m.from_name);
		else
			assert_string_equal(m.from_name, cases[i].name);
		assert_contains(m.body, cases[i].sentence);
		assert_int_equal(m.body_from_html, cases[i].html);
		assert_int_equal(m.is_report, strcmp(cases[i].file, "a10.eml") == 0);
		assert_non_null(m.message_id);
		assert_null(strchr(m.message_id, '<'));
		assert_non_null(m.date);
		parsed_mail_clear(&m);
	}
}

static void
test_sample_windows1252(void **state)
{
	(void)state;
	struct parsed_mail m;
	parse_sample("a04.eml", &m);
	assert_contains(m.body, "la mise en \xC5\x93uvre du contrat");                  /* œ from 0x9C */
	assert_contains(m.body, "Notre expert-comptable n\xE2\x80\x99" "arrive pas");     /* ’ from 0x92 */
	assert_contains(m.body, "SARL Fournil & C\xC5\x93ur \xE2\x80\x93 Boulangerie");    /* – from 0x96 */
	assert_contains(m.body, "\xC2\xAB OCAPIAT REGLT 0042 \xC2\xBB");
	assert_lacks(m.body, "\xC2\x92");       /* no C1 control left */
	assert_int_equal(m.note_count, 0);
	parsed_mail_clear(&m);

	parse_sample("a15.eml", &m);            /* ISO-8859-1 8bit, read as windows-1252 */
	assert_contains(m.body, "Le formulaire de rupture est sign\xC3\xA9 par les deux parties");
	parsed_mail_clear(&m);
}

static void
test_sample_html_only(void **state)
{
	(void)state;
	struct parsed_mail m;
	parse_sample("a09.eml", &m);
	assert_true(m.body_from_html);
	assert_lacks(m.body, "font-family");            /* <style> */
	assert_lacks(m.body, "Imprimer le CERFA");      /* <title> (the body says "imprimer le CERFA") */
	assert_lacks(m.body, "&eacute;");
	assert_lacks(m.body, "&nbsp;");
	assert_lacks(m.body, "<");
	assert_lacks(m.body, "\xC2\xA0");
	assert_lacks(m.body, "\n\n\n");
	assert_contains(m.body, "J'ai enregistr\xC3\xA9 et transmis la semaine derni\xC3\xA8re");
	assert_contains(m.body, "Paysages Belkacem & Fils\nT\xC3\xA9l. : 04 65 71 88 20");
	assert_true(str_starts_with(m.body, "Bonjour,\n\nJ'ai enregistr"));
	parsed_mail_clear(&m);
}

static void
test_sample_bounce(void **state)
{
	(void)state;
	struct parsed_mail m;
	parse_sample("a10.eml", &m);
	assert_true(m.is_report);
	assert_string_equal(m.return_path, "");
	assert_int_equal(m.bounced_count, 1);
	assert_string_equal(m.bounced_recipients[0], "j.morel@cave-trois-chenes.example");
	/* the returned message (our reply, quoting the user) is not the body */
	assert_lacks(m.body, "DECA");
	assert_lacks(m.body, "Bien cordialement");
	assert_lacks(m.body, "Reporting-MTA");
	assert_contains(m.body, "Recipient address rejected");
	assert_int_equal(m.attachment_count, 1);
	assert_string_equal(m.attachments[0].content_type, "message/rfc822");
	assert_true(m.attachments[0].size > 900);
	parsed_mail_clear(&m);
}

static void
test_sample_attachment(void **state)
{
	(void)state;
	struct parsed_mail m;
	parse_sample("a11.eml", &m);
	assert_int_equal(m.attachment_count, 1);
	assert_string_equal(m.attachments[0].filename, "RIB_Armement_LeGoff.pdf");
	assert_string_equal(m.attachments[0].content_type, "application/pdf");
	assert_int_equal(m.attachments[0].size, 968);   /* base64 -d | wc -c */
	assert_lacks(m.body, "JVBERi0");
	assert_lacks(m.body, "%PDF");
	/* format=flowed lines joined, the signature separator kept */
	assert_contains(m.body, "afin que les prochains remboursements de formation arrivent sur le nouveau compte ?");
	parsed_mail_clear(&m);
}

static void
test_sample_apple_two_parts(void **state)
{
	(void)state;
	struct parsed_mail m;
	parse_sample("a12.eml", &m);
	const char *first = strstr(m.body, "Pourquoi ce message s'affiche-t-il ?");
	const char *second = strstr(m.body, "Merci d'avance,\nS\xC3\xA9" "bastien Roux\nP\xC3\xA9pini\xC3\xA8res Roux");
	assert_non_null(first);
	assert_non_null(second);
	assert_true(first < second);
	assert_contains(m.body, "s'affiche-t-il ?\n\nMerci d'avance,");
	assert_lacks(m.body, "iVBORw0KGgo");
	assert_int_equal(m.attachment_count, 1);
	/* RFC 2231 filename*=utf-8''..., decomposed accents composed */
	assert_string_equal(m.attachments[0].filename, "Capture d\xE2\x80\x99\xC3\xA9" "cran 2023-03-14 \xC3\xA0 09.41.22.png");
	assert_string_equal(m.attachments[0].content_type, "image/png");
	assert_int_equal(m.attachments[0].size, 112);
	parsed_mail_clear(&m);

	parse_sample("a30.eml", &m);            /* multipart/related: inline logo */
	assert_int_equal(m.attachment_count, 1);
	assert_string_equal(m.attachments[0].filename, "image001.png");
	assert_int_equal(m.attachments[0].size, 113);
	assert_false(m.body_from_html);
	assert_lacks(m.body, "MsoNormal");
	parsed_mail_clear(&m);
}

static void
test_sample_question_in_subject(void **state)
{
	(void)state;
	struct parsed_mail m;
	parse_sample("a22.eml", &m);
	assert_string_equal(m.body, "");
	char *q = mail_question_text(&m);
	assert_string_equal(q, m.subject);
	free(q);
	parsed_mail_clear(&m);

	parse_sample("a23.eml", &m);
	q = mail_question_text(&m);
	assert_string_equal(q, "D\xC3\xA9" "claration et versement de nos contributions l\xC3\xA9gales et conventionnelles 2023 : comment faire ?");
	free(q);
	parsed_mail_clear(&m);

	parse_sample("a01.eml", &m);            /* a real body: the body */
	q = mail_question_text(&m);
	assert_string_equal(q, m.body);
	free(q);
	parsed_mail_clear(&m);
}

static void
test_sample_odd_case_headers(void **state)
{
	(void)state;
	struct parsed_mail m;
	parse_sample("a24.eml", &m);
	assert_string_equal(m.message_id, "12A484D8.1240C92D@CONSERVERIE-BERTIN.EXAMPLE");
	assert_int_equal(m.to_count, 1);
	assert_string_equal(m.to_addresses[0], "DIALOGUER@ocapiat.test");
	assert_string_equal(mail_header_get(&m, "Subject"), "Salariee absente de ma liste pour une inscription");
	assert_string_equal(mail_header_get(&m, "x-mailer"), "PostMaster Pro 3");
	assert_null(mail_header_get(&m, "Cc"));
	bool found = false;
	for (size_t i = 0; i < m.header_count; i++)
		if (strcmp(m.headers[i].name, "SUBJECT") == 0)
			found = true;
	assert_true(found);                     /* names as written */
	assert_contains(m.body, "Mme Chlo\xC3\xA9 Ferrand");
	assert_null(strchr(m.body, '\r'));
	parsed_mail_clear(&m);
}

static void
test_sample_headers(void **state)
{
	(void)state;
	struct parsed_mail m;
	parse_sample("a04.eml", &m);
	/* folded value: CR/LF removed, nothing decoded */
	assert_string_equal(mail_header_get(&m, "subject"),
			    "=?windows-1252?Q?Virement_re=E7u_sans_d=E9tail_=96_comment_savoir_=E0_quo?= "
			    "=?windows-1252?Q?i_il_correspond_=3F?=");
	assert_string_equal(mail_header_get(&m, "Content-Type"), "text/plain;\tcharset=\"windows-1252\"");
	assert_int_equal(m.header_count, 13);
	assert_string_equal(m.headers[0].name, "From");
	assert_string_equal(m.headers[12].name, "X-MimeOLE");
	assert_int_equal(m.to_count, 1);
	assert_string_equal(m.to_addresses[0], "dialoguer@ocapiat.test");
	parsed_mail_clear(&m);

	parse_sample("a17.eml", &m);
	assert_string_equal(m.in_reply_to, "20230306091204.8a71f3@ocapiat.test");
	assert_int_equal(m.reference_count, 2);
	assert_string_equal(m.references[0], "20230303154410.2c9e41@ocapiat.test");
	assert_string_equal(m.references[1], "20230306091204.8a71f3@ocapiat.test");
	parsed_mail_clear(&m);

	parse_sample("a16.eml", &m);
	assert_string_equal(m.sender_address, "rh-agri-bounces+dialoguer=ocapiat.test@listes.reseau-employeurs-agri.test");
	assert_string_equal(m.return_path, "rh-agri-bounces+dialoguer=ocapiat.test@listes.reseau-employeurs-agri.test");
	assert_string_equal(mail_header_get(&m, "Precedence"), "list");
	assert_string_equal(mail_header_get(&m, "List-Unsubscribe"),
			    "<https://listes.reseau-employeurs-agri.test/mailman/options/rh-agri>, "
			    "<mailto:rh-agri-request@listes.reseau-employeurs-agri.test?subject=unsubscribe>");
	parsed_mail_clear(&m);

	parse_sample("a03.eml", &m);
	assert_string_equal(mail_header_get(&m, "Auto-Submitted"), "auto-replied");
	assert_string_equal(m.in_reply_to, "20230406091201.7c41e2@ocapiat.test");
	assert_string_equal(mail_header_get(&m, "X-MS-Has-Attach"), "");
	parsed_mail_clear(&m);

	parse_sample("a06.eml", &m);            /* "dialoguer@ocapiat.test" <dialoguer@ocapiat.test> */
	assert_int_equal(m.to_count, 1);
	assert_string_equal(m.to_addresses[0], "dialoguer@ocapiat.test");
	parsed_mail_clear(&m);
}

static void
test_sample_truncated_multipart(void **state)
{
	(void)state;
	struct parsed_mail m;
	parse_sample("a07.eml", &m);
	assert_note(&m, "closing boundary missing");
	assert_false(m.body_from_html);
	assert_lacks(m.body, "<div");
	assert_contains(m.body, "Envoy\xC3\xA9 depuis mon smartphone Android");
	parsed_mail_clear(&m);
}

static void
test_sample_base64_crlf(void **state)
{
	(void)state;
	struct parsed_mail m;
	parse_sample("a05.eml", &m);
	assert_contains(m.body, "Entreprise : Scierie des Combes\nSIRET : 41238765600025\n");
	parsed_mail_clear(&m);
	parse_sample("a18.eml", &m);
	assert_false(m.body_from_html);
	assert_contains(m.body, "De : Marc Delorme <m.delorme@jardins-de-louest.example>\nEnvoy\xC3\xA9 : mardi 14 mars 2023 08:47\n");
	parsed_mail_clear(&m);
}

static void
test_samples_headers_only(void **state)
{
	(void)state;
	static const char *const files[] = { "a10.eml", "a11.eml", "a12.eml", "a23.eml" };
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		char *path = xasprintf("%s/mail/%s", TEST_DATA_DIR, files[i]);
		char *err = NULL;
		size_t len;
		char *raw = file_read_all(path, 1 << 20, &len, &err);
		assert_non_null(raw);
		struct parsed_mail full, head;
		parse_bytes(raw, len, &full);
		assert_int_equal(mail_parse_headers(raw, len, &head, &err), 0);
		check_output(&head);
		assert_string_equal(head.body, "");
		assert_int_equal(head.attachment_count, 0);
		assert_int_equal(head.bounced_count, 0);
		assert_string_equal(head.subject, full.subject);
		assert_string_equal(head.from_address, full.from_address);
		assert_int_equal(head.header_count, full.header_count);
		assert_int_equal(head.is_report, full.is_report);
		parsed_mail_clear(&full);
		parsed_mail_clear(&head);
		free(raw);
		free(path);
	}
}

/* ---- headers, written here ---- */

static void
test_subject_decoding(void **state)
{
	(void)state;
	static const struct { const char *header; const char *subject; } cases[] = {
		/* a character split over two words on folded lines */
		{ "Subject: =?utf-8?q?caf=C3?=\r\n =?utf-8?q?=A9_cr=C3=A8me?=", "caf\xC3\xA9 cr\xC3\xA8me" },
		{ "Subject: =?utf-8?b?Y2Fmw6k=?=", "caf\xC3\xA9" },
		{ "Subject: Re: =?iso-8859-1?q?d=E9j=E0?= vu", "Re: d\xC3\xA9j\xC3\xA0 vu" },
		{ "Subject: =?ISO-8859-1?Q?a_=96_b?=", "a \xE2\x80\x93 b" },              /* read as windows-1252 */
		{ "Subject: =?us-ascii?Q?l=92objet?=", "l\xE2\x80\x99objet" },
		{ "Subject: =?iso-8859-15?q?=A4?=", "\xE2\x82\xAC" },                     /* through iconv */
		{ "Subject: =?utf-8*fr?q?caf=C3=A9?=", "caf\xC3\xA9" },                   /* RFC 2231 language */
		{ "Subject: =?utf-8?x?abc?=", "=?utf-8?x?abc?=" },                        /* not a word */
		{ "Subject:   spaces\tand\t\ttabs   ", "spaces and tabs" },
		{ "Subject: two\r\n\tlines", "two lines" },
		{ "Subject: caf\xE9 cr\xE8me", "caf\xC3\xA9 cr\xC3\xA8me" },              /* raw 8-bit windows-1252 */
		{ "Subject: caf\xC3\xA9 \xFF", "caf\xC3\xA9 \xC3\xBF" },                  /* raw UTF-8 and a stray byte */
		{ "Subject: =?utf-8?q?a=0D=0ABcc:_x@y?=", "a Bcc: x@y" },                 /* header injection */
		{ "Subject: =?utf-8?q?nul=00byte?=", "nul\xEF\xBF\xBD" "byte" },
		{ "Subject: =?utf-8?q?bad=FF?=", "bad\xEF\xBF\xBD" },
		{ "Subject: =?utf-8?q?tab=09and=C2=85nel?=", "tab and nel" },
		{ "Subject:", "" },
		{ "X-Other: no subject", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *raw = xasprintf("From: a@b.example\r\n%s\r\n\r\nbody\r\n", cases[i].header);
		struct parsed_mail m;
		parse_str(raw, &m);
		print_message("%s\n", cases[i].header);
		assert_string_equal(m.subject, cases[i].subject);
		assert_int_equal(m.header_count, 2);    /* no header smuggled in */
		assert_null(mail_header_get(&m, "Bcc"));
		parsed_mail_clear(&m);
		free(raw);
	}
}

static void
test_unknown_charset_in_header(void **state)
{
	(void)state;
	struct parsed_mail m;
	parse_str("Subject: =?x-unknown-42?q?caf=E9?=\n\nx\n", &m);
	assert_string_equal(m.subject, "caf\xC3\xA9");
	assert_note(&m, "unknown charset x-unknown-42 in a header: read as windows-1252");
	parsed_mail_clear(&m);
}

static void
test_addresses(void **state)
{
	(void)state;
	static const struct { const char *from; const char *addr; const char *name; } cases[] = {
		{ "\"Lefebvre, Claire\" <Claire.Lefebvre@Laiterie.EXAMPLE>", "Claire.Lefebvre@laiterie.example", "Lefebvre, Claire" },
		{ "John.Doe@Example.COM", "John.Doe@example.com", NULL },
		{ "MAILER-DAEMON@mx.example (Mail Delivery System)", "MAILER-DAEMON@mx.example", "Mail Delivery System" },
		{ "=?utf-8?q?Ren=C3=A9_Ma=C3=AEtre?= <rene@x.example>", "rene@x.example", "Ren\xC3\xA9 Ma\xC3\xAEtre" },
		{ "\"=?utf-8?q?Ren=C3=A9?=\" <rene@x.example>", "rene@x.example", "Ren\xC3\xA9" },
		{ "H\xC3\xA9l\xC3\xA8ne Rocher <h@x.example>", "h@x.example", "H\xC3\xA9l\xC3\xA8ne Rocher" },   /* raw UTF-8 */
		{ "H\xE9l\xE8ne Rocher <h@x.example>", "h@x.example", "H\xC3\xA9l\xC3\xA8ne Rocher" },           /* raw latin-1 */
		{ "\"Marie \\\"La\\\" Dupont\" <m@x.example>", "m@x.example", "Marie \"La\" Dupont" },
		{ "<m@x.example>", "m@x.example", NULL },
		{ "Someone <@relay.example:m@X.example>", "m@x.example", "Someone" },
		{ "undisclosed-recipients:;", NULL, NULL },
		{ "not an address", NULL, NULL },
		{ "<>", NULL, NULL },
		{ "Bad <a b@x.example>", NULL, NULL },
		{ "=?utf-8?q?a=0D=0Ab?= <a@x.example>", "a@x.example", "a b" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *raw = xasprintf("From: %s\r\nSubject: s\r\n\r\nbody\r\n", cases[i].from);
		struct parsed_mail m;
		parse_str(raw, &m);
		print_message("%s\n", cases[i].from);
		if (cases[i].addr == NULL)
			assert_null(m.from_address);
		else
			assert_string_equal(m.from_address, cases[i].addr);
		if (cases[i].name == NULL)
			assert_null(m.from_name);
		else
			assert_string_equal(m.from_name, cases[i].name);
		parsed_mail_clear(&m);
		free(raw);
	}
}

static void
test_address_lists(void **state)
{
	(void)state;
	struct parsed_mail m;
	parse_str("To: \"Dupont, Marie\" <m@A.example>, b@B.example (Bob),\n"
		  "  Team: c@c.example, <d@D.example>;, e@e.example\n"
		  "Cc: f@f.example\n"
		  "Reply-To: Other <r@R.example>\n"
		  "Return-Path: <bounce@Bounce.example>\n"
		  "Message-ID: <id1@x>\n"
		  "In-Reply-To: Your message of today <id0@x> (comment)\n"
		  "References: <a@x> <b@x>\n\t<c@x> <bad\tid@x> <>\n"
		  "\n"
		  "text\n", &m);
	static const char *const want[] = { "m@a.example", "b@b.example", "c@c.example", "d@d.example", "e@e.example", "f@f.example" };
	assert_int_equal(m.to_count, 6);
	for (size_t i = 0; i < 6; i++)
		assert_string_equal(m.to_addresses[i], want[i]);
	assert_string_equal(m.reply_to_address, "r@r.example");
	assert_string_equal(m.return_path, "bounce@bounce.example");
	assert_string_equal(m.message_id, "id1@x");
	assert_string_equal(m.in_reply_to, "id0@x");
	assert_int_equal(m.reference_count, 3);
	assert_string_equal(m.references[2], "c@x");
	assert_null(m.from_address);
	assert_string_equal(m.subject, "");
	parsed_mail_clear(&m);
}

/* ---- bodies, written here ---- */

static void
test_charsets(void **state)
{
	(void)state;
	static const struct { const char *charset_param; const char *body; const char *want; const char *note; } cases[] = {
		{ "; charset=utf-8", "caf\xC3\xA9", "caf\xC3\xA9", NULL },
		{ "; charset=\"ISO-8859-1\"", "l\x92\x65t\xE9 \x80", "l\xE2\x80\x99" "et\xC3\xA9 \xE2\x82\xAC", NULL },
		{ "; charset=windows-1252", "\x9C\x8C \x96", "\xC5\x93\xC5\x92 \xE2\x80\x93", NULL },
		{ "; charset=us-ascii", "l\x92objet", "l\xE2\x80\x99objet", NULL },
		{ "; charset=iso-8859-15", "\xA4 \xBD", "\xE2\x82\xAC \xC5\x93", NULL },
		{ "", "caf\xE9", "caf\xC3\xA9", NULL },                         /* missing, 8-bit */
		{ "", "caf\xC3\xA9", "caf\xC3\xA9", NULL },                     /* missing, valid UTF-8 */
		{ "; charset=x-unknown-42", "caf\xE9", "caf\xC3\xA9", "unknown charset x-unknown-42 in a text/plain part: read as windows-1252" },
		{ "; charset=x-unknown-42", "caf\xC3\xA9", "caf\xC3\xA9", "unknown charset x-unknown-42 in a text/plain part: read as UTF-8" },
		{ "; charset=\"b\xE9te\"", "caf\xE9", "caf\xC3\xA9", "unreadable charset name" },
		{ "; charset=utf-8", "a\xC3(b\xFF" "c\xED\xA0\x80" "d", "a\xEF\xBF\xBD(b\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "d",
		  "invalid UTF-8 in a text/plain part: replaced" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *raw = xasprintf("Subject: c\nContent-Type: text/plain%s\nContent-Transfer-Encoding: 8bit\n\n%s\n",
				      cases[i].charset_param, cases[i].body);
		struct parsed_mail m;
		parse_str(raw, &m);
		print_message("case %zu\n", i);
		char *want = xasprintf("%s\n", cases[i].want);
		assert_string_equal(m.body, want);
		if (cases[i].note != NULL)
			assert_note(&m, cases[i].note);
		else
			assert_int_equal(m.note_count, 0);
		free(want);
		parsed_mail_clear(&m);
		free(raw);
	}
}

static void
test_transfer_encodings(void **state)
{
	(void)state;
	static const struct { const char *cte; const char *body; const char *want; } cases[] = {
		{ "quoted-printable", "caf=C3=A9 long=\r\nue ligne\r\nsuite=3D\r\n", "caf\xC3\xA9 longue ligne\nsuite=\n" },
		{ "QUOTED-PRINTABLE", "a=\nb\n", "ab\n" },
		{ "base64", "Y2Fmw6kNCmxpZ25lDQo=\r\n", "caf\xC3\xA9\nligne\n" },    /* "café\r\nligne\r\n" */
		{ "8bit", "un\r\ndeux\rtrois\n", "un\ndeux\ntrois\n" },
		{ "x-unknown", "tel quel\n", "tel quel\n" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *raw = xasprintf("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: %s\n\n%s",
				      cases[i].cte, cases[i].body);
		struct parsed_mail m;
		parse_str(raw, &m);
		print_message("%s\n", cases[i].cte);
		assert_string_equal(m.body, cases[i].want);
		parsed_mail_clear(&m);
		free(raw);
	}
}

static void
test_qp_ending_mid_escape(void **state)
{
	(void)state;
	/* libetpan reads one byte past "=4" at the very end: parse_bytes gives an exact-size
	 * buffer, so ASan would catch a read past the caller's data. */
	static const char *const ends[] = { "caf=C3=A9 =4", "caf=C3=A9 =", "caf=C3=A9 =C" };
	for (size_t i = 0; i < sizeof(ends) / sizeof(*ends); i++) {
		char *raw = xasprintf("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n%s", ends[i]);
		struct parsed_mail m;
		parse_str(raw, &m);
		assert_true(str_starts_with(m.body, "caf\xC3\xA9"));
		parsed_mail_clear(&m);
		free(raw);
	}
}

static void
test_flowed(void **state)
{
	(void)state;
	struct parsed_mail m;
	parse_str("Content-Type: text/plain; charset=utf-8; format=flowed\n\n"
		  "Une phrase \ncoup\xC3\xA9" "e en deux.\n"
		  " >pas une citation\n"
		  "> cit\xC3\xA9 \n> suite\n"
		  "-- \nSignature\n", &m);
	assert_string_equal(m.body, "Une phrase coup\xC3\xA9" "e en deux.\n>pas une citation\n> cit\xC3\xA9 suite\n-- \nSignature\n");
	parsed_mail_clear(&m);
	parse_str("Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\n\n"
		  "mot coup \xC3\xA9\n", &m);
	assert_string_equal(m.body, "mot coup \xC3\xA9\n");
	parsed_mail_clear(&m);
	parse_str("Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\n\n"
		  "motcou \npé\n", &m);
	assert_string_equal(m.body, "motcoup\xC3\xA9\n");
	parsed_mail_clear(&m);
}

static void
test_nul_bytes(void **state)
{
	(void)state;
	static const char raw[] = "Subject: nul\nContent-Type: text/plain; charset=utf-8\n\navant\0apr\xC3\xA8s\n";
	struct parsed_mail m;
	parse_bytes(raw, sizeof(raw) - 1, &m);
	assert_string_equal(m.body, "avant\xEF\xBF\xBD" "apr\xC3\xA8s\n");
	assert_note(&m, "NUL bytes in a text/plain part: replaced");
	assert_false(has_note(&m, "invalid UTF-8"));
	parsed_mail_clear(&m);
	static const char raw2[] = "Subject: nul\n\nsans\0charset\n";
	parse_bytes(raw2, sizeof(raw2) - 1, &m);
	assert_string_equal(m.body, "sans\xEF\xBF\xBD" "charset\n");
	parsed_mail_clear(&m);
}

static void
test_no_headers_and_empty(void **state)
{
	(void)state;
	struct parsed_mail m;
	parse_str("Bonjour,\nJe voudrais savoir o\xC3\xB9 en est mon dossier.\n", &m);
	assert_int_equal(m.header_count, 0);
	assert_string_equal(m.body, "Bonjour,\nJe voudrais savoir o\xC3\xB9 en est mon dossier.\n");
	assert_string_equal(m.subject, "");
	assert_null(m.from_address);
	parsed_mail_clear(&m);

	parse_str("\nonly a body\n", &m);
	assert_int_equal(m.header_count, 0);
	assert_string_equal(m.body, "only a body\n");
	parsed_mail_clear(&m);

	parse_bytes("", 0, &m);
	assert_int_equal(m.header_count, 0);
	assert_string_equal(m.body, "");
	assert_string_equal(m.subject, "");
	char *q = mail_question_text(&m);
	assert_string_equal(q, "");
	free(q);
	parsed_mail_clear(&m);

	parse_str("Subject: only headers\nFrom: a@b.example", &m);
	assert_int_equal(m.header_count, 2);
	assert_string_equal(m.body, "");
	assert_string_equal(m.from_address, "a@b.example");
	parsed_mail_clear(&m);

	/* an mbox separator line before the headers */
	parse_str("From someone@example.test Mon Jan  1 00:00:00 2024\nSubject: mbox\n"
		  "Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nhello\n--b--\n", &m);
	assert_string_equal(m.subject, "mbox");
	assert_string_equal(m.body, "hello\n");
	parsed_mail_clear(&m);

	/* no empty line after the headers */
	parse_str("Subject: x\nContent-Type: text/plain; charset=utf-8\nLe texte commence ici\nsans: ligne vide\n", &m);
	assert_int_equal(m.header_count, 2);
	assert_string_equal(m.body, "Le texte commence ici\nsans: ligne vide\n");
	assert_note(&m, "no empty line after the headers");
	parsed_mail_clear(&m);

	char *err = NULL;
	assert_int_equal(mail_parse_headers("", 0, &m, &err), 0);
	assert_string_equal(m.body, "");
	parsed_mail_clear(&m);
}

static void
test_unsafe_boundary(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"Content-Type: multipart/mixed; boundary=\"\\\"\"\n\n--x\n\ntext\n",
		"Content-Type: multipart/mixed;\n\tboundary=\"a\\\\b\"\n\ntext\n",
		"Content-Type: multipart/mixed; boundary=\"a\"b\"\n\ntext\n",
		"Content-Type: multipart/mixed; BOUNDARY = \"\\\"\"\n\ntext\n",
		"content-type : multipart/mixed; boundary=a\\b\n\ntext\n",
		/* in a nested part only */
		"Content-Type: multipart/mixed; boundary=\"ok\"\n\n--ok\nContent-Type: multipart/alternative; boundary=\"\\\"\"\n\nx\n--ok--\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct parsed_mail m;
		char *err = NULL;
		print_message("case %zu\n", i);
		assert_int_equal(mail_parse(bad[i], strlen(bad[i]), &m, &err), -1);
		assert_non_null(err);
		assert_contains(err, "unsafe MIME boundary, message not parsed");
		free(err);
		parsed_mail_clear(&m);
		/* the headers alone are still readable */
		err = NULL;
		assert_int_equal(mail_parse_headers(bad[i], strlen(bad[i]), &m, &err), 0);
		check_output(&m);
		parsed_mail_clear(&m);
	}
	struct parsed_mail m;           /* a quoted boundary with ordinary characters is fine */
	parse_str("Content-Type: multipart/mixed; boundary=\"=_a'(b)+c,-./:?\"\n\n"
		  "--=_a'(b)+c,-./:?\nContent-Type: text/plain\n\nfine\n--=_a'(b)+c,-./:?--\n", &m);
	assert_string_equal(m.body, "fine\n");
	assert_int_equal(m.note_count, 0);
	parsed_mail_clear(&m);
}

/* The guard looks at the header blocks libetpan reads, not at text that talks about a
 * boundary (issue 14: a quoted-printable body with boundary=3D"..." was refused). */
static void
test_boundary_in_text(void **state)
{
	(void)state;
	static const struct {
		const char *raw;
		const char *in_body;
	} text[] = {
		/* quoted-printable text quoting a crashing header */
		{ "From: Jean <jean@example.fr>\nSubject: en-tete\nMIME-Version: 1.0\n"
		  "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
		  "Voici l'en-t=C3=AAte re=C3=A7u :\nContent-Type: multipart/mixed; boundary=3D\"\\\"\"\nmerci\n",
		  "boundary=\"\\\"\"" },
		/* the same in 8bit, inside a part of a multipart */
		{ "From: Jean <jean@example.fr>\nContent-Type: multipart/mixed; boundary=\"ok\"\n\n"
		  "--ok\nContent-Type: text/plain; charset=utf-8\n\nJ'ai re\xC3\xA7u :\n"
		  "Content-Type: multipart/mixed; boundary=\"a\\\\b\"\n--ok--\n",
		  "boundary=\"a\\\\b\"" },
		/* in the preamble, which no MIME reader parses */
		{ "From: Jean <jean@example.fr>\nContent-Type: multipart/mixed; boundary=\"ok\"\n\n"
		  "Content-Type: multipart/mixed; boundary=\"\\\"\"\n"
		  "--ok\nContent-Type: text/plain\n\nle texte\n--ok--\n",
		  "le texte" },
		/* after the closing delimiter (the epilogue) */
		{ "From: Jean <jean@example.fr>\nContent-Type: multipart/mixed; boundary=\"ok\"\n\n"
		  "--ok\nContent-Type: text/plain\n\nle texte\n--ok--\nContent-Type: multipart/mixed; boundary=\"\\\"\"\n",
		  "le texte" },
	};
	for (size_t i = 0; i < sizeof(text) / sizeof(*text); i++) {
		struct parsed_mail m;
		print_message("text case %zu\n", i);
		parse_str(text[i].raw, &m);
		assert_contains(m.body, text[i].in_body);
		assert_string_equal(m.from_address, "jean@example.fr");
		parsed_mail_clear(&m);
	}
	/* Real headers are still all checked: an encapsulated message's, a part's after a
	 * line of spaces at the top, a part whose header block starts without a blank line. */
	static const char *const headers[] = {
		"Content-Type: multipart/mixed; boundary=\"ok\"\n\n--ok\nContent-Type: message/rfc822\n\n"
		"From: x@example.fr\nContent-Type: multipart/alternative; boundary=\"\\\"\"\n\nx\n--ok--\n",
		"   \nContent-Type: multipart/mixed; boundary=\"\\\"\"\n\n--x\n\ntext\n",
		"Content-Type: multipart/mixed; boundary=\"ok\"\n\n--ok  \nX-Junk\nContent-Type: multipart/mixed; boundary=\"\\\"\"\n\nx\n--ok--\n",
		"Content-Type: multipart/mixed; boundary=\"ok\"\n\n--ok\nContent-Type: multipart/mixed; boundary=\"in\"\n\n"
		"--in\nContent-Type: multipart/alternative; boundary=\"a\\\\b\"\n\nx\n--in--\n--ok--\n",
	};
	for (size_t i = 0; i < sizeof(headers) / sizeof(*headers); i++) {
		struct parsed_mail m;
		char *err = NULL;
		print_message("header case %zu\n", i);
		assert_int_equal(mail_parse(headers[i], strlen(headers[i]), &m, &err), -1);
		assert_contains(err, "unsafe MIME boundary");
		free(err);
		parsed_mail_clear(&m);
	}
}

/* A line of spaces before the headers (issue 14: three people's mails were read without
 * headers, so without a sender, and dropped). Python's email parser and Dovecot read the
 * headers after it. */
static void
test_spaces_before_headers(void **state)
{
	(void)state;
	static const char *const raws[] = {
		"   \nFrom: Jean Dupont <jean.dupont@example.fr>\nSubject: Mot de passe\nMessage-ID: <s1@example.fr>\n\n"
		"Bonjour, j'ai perdu mon mot de passe.\n",
		" \t \r\nFrom: Jean Dupont <jean.dupont@example.fr>\r\nSubject: Mot de passe\r\nMessage-ID: <s1@example.fr>\r\n\r\n"
		"Bonjour, j'ai perdu mon mot de passe.\r\n",
		"  \n\t\nFrom: Jean Dupont <jean.dupont@example.fr>\nSubject: Mot de passe\nMessage-ID: <s1@example.fr>\n\n"
		"Bonjour, j'ai perdu mon mot de passe.\n",
		"From jean.dupont@example.fr Mon Mar  6 10:00:00 2023\n \nFrom: Jean Dupont <jean.dupont@example.fr>\n"
		"Subject: Mot de passe\nMessage-ID: <s1@example.fr>\n\nBonjour, j'ai perdu mon mot de passe.\n",
	};
	for (size_t i = 0; i < sizeof(raws) / sizeof(*raws); i++) {
		struct parsed_mail m;
		print_message("case %zu\n", i);
		parse_str(raws[i], &m);
		assert_string_equal(m.from_address, "jean.dupont@example.fr");
		assert_string_equal(m.subject, "Mot de passe");
		assert_string_equal(m.message_id, "s1@example.fr");
		assert_string_equal(m.body, "Bonjour, j'ai perdu mon mot de passe.\n");
		assert_note(&m, "line of spaces before the headers skipped");
		parsed_mail_clear(&m);
		/* mail_parse_headers (a mail too big to read) agrees */
		char *err = NULL;
		assert_int_equal(mail_parse_headers(raws[i], strlen(raws[i]), &m, &err), 0);
		assert_string_equal(m.from_address, "jean.dupont@example.fr");
		parsed_mail_clear(&m);
	}
	/* Sent through an MTA, which saw no header: its own on top, then an empty line, then
	 * the writer's after the line of spaces (tests/data/realmail/flanker-iphone.eml as
	 * Postfix and Dovecot delivered it). The writer's MIME structure is read too. */
	static const char delivered[] =
		"Return-Path: <jean.dupont@example.fr>\nDelivered-To: dialoguer@ocapiat.test\n"
		"Received: from mailtool.test (unknown [127.0.0.1])\n\tby mx.ocapiat.test (Postfix) with ESMTP id 8E6F\n"
		"\n    \n"
		"From: Jean Dupont <jean.dupont@example.fr>\nSubject: Mot de passe\nMessage-ID: <s2@example.fr>\n"
		"MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"b\"\n\n"
		"--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
		"J'ai oubli=C3=A9 mon mot de passe.\n--b\nContent-Type: text/html\n\n<p>HTML</p>\n--b--\n";
	struct parsed_mail m;
	parse_str(delivered, &m);
	assert_string_equal(m.from_address, "jean.dupont@example.fr");
	assert_string_equal(m.return_path, "jean.dupont@example.fr");
	assert_string_equal(m.subject, "Mot de passe");
	assert_string_equal(m.message_id, "s2@example.fr");
	assert_string_equal(m.body, "J'ai oubli\xC3\xA9 mon mot de passe.\n");
	assert_note(&m, "line of spaces before the headers: read after the MTA's");
	parsed_mail_clear(&m);
	char *err = NULL;
	assert_int_equal(mail_parse_headers(delivered, strlen(delivered), &m, &err), 0);
	assert_string_equal(m.from_address, "jean.dupont@example.fr");
	parsed_mail_clear(&m);
	/* ... and the guard checks that header block as libetpan will read it. */
	static const char unsafe[] = "Return-Path: <x@example.fr>\n\n \nFrom: x@example.fr\n"
				     "Content-Type: multipart/mixed; boundary=\"\\\"\"\n\n--x\n\ntext\n";
	assert_int_equal(mail_parse(unsafe, strlen(unsafe), &m, &err), -1);
	assert_contains(err, "unsafe MIME boundary");
	free(err);
	parsed_mail_clear(&m);
	/* ... and not when the message has its own From: then that block is body text. */
	static const char quoted[] = "From: Jean <jean@example.fr>\nSubject: en-tete\n\n \n"
				     "Content-Type: multipart/mixed; boundary=\"\\\"\"\n\nVoici ce que j'ai recu.\n";
	parse_str(quoted, &m);
	assert_string_equal(m.subject, "en-tete");
	assert_contains(m.body, "Voici ce que j'ai recu.");
	parsed_mail_clear(&m);
	/* A header block with a From keeps its body, even one that starts with spaces and
	 * quotes headers; so does one whose spaced block names no From. */
	parse_str("From: Jean <jean@example.fr>\nSubject: Transfert\n\n  \nFrom: autre@example.fr\nSubject: x\n\ntexte\n", &m);
	assert_string_equal(m.subject, "Transfert");
	assert_contains(m.body, "From: autre@example.fr");
	parsed_mail_clear(&m);
	parse_str("Received: by mx\n\n  \nSubject: x\nX-Y: z\n\ntexte\n", &m);
	assert_null(mail_header_get(&m, "Subject"));
	assert_contains(m.body, "Subject: x");
	assert_int_equal(m.header_count, 1);
	parsed_mail_clear(&m);

	/* An empty line is not a line of spaces: it ends an empty header block. */
	parse_str("\nFrom: Jean <jean@example.fr>\n\ntexte\n", &m);
	assert_int_equal(m.header_count, 0);
	assert_null(m.from_address);
	parsed_mail_clear(&m);
	/* Spaces only, or spaces and no header after them: read as well as possible. */
	parse_str("   ", &m);
	check_output(&m);
	parsed_mail_clear(&m);
	parse_str("  \nBonjour, pas d'en-tete ici.\n", &m);
	assert_contains(m.body, "Bonjour");
	parsed_mail_clear(&m);
}

/* The one path dialogd and dialogctl classify --eml take with a received mail. */
static void
test_parse_received(void **state)
{
	(void)state;
	static const char ok[] = "From: Jean <jean@example.fr>\nSubject: Mot de passe\n\nBonjour\0 perdu.\n";
	struct parsed_mail m;
	char *why = mail_parse_received(ok, sizeof(ok) - 1, 1000, &m);
	assert_null(why);
	assert_string_equal(m.from_address, "jean@example.fr");
	assert_contains(m.body, "Bonjour\xEF\xBF\xBD perdu.");     /* the NUL is U+FFFD */
	parsed_mail_clear(&m);
	/* over the limit: not parsed, the headers read */
	why = mail_parse_received(ok, sizeof(ok) - 1, 20, &m);
	assert_non_null(why);
	char *expected = xasprintf("message of %zu bytes, over the 20-byte limit: not read", sizeof(ok) - 1);
	assert_string_equal(why, expected);
	free(expected);
	assert_string_equal(m.from_address, "jean@example.fr");
	assert_string_equal(m.body, "");
	free(why);
	parsed_mail_clear(&m);
	/* refused by the guard: the headers still read */
	static const char bad[] = "From: Jean <jean@example.fr>\nSubject: x\n"
				  "Content-Type: multipart/mixed; boundary=\"\\\"\"\n\n--x\n\ntext\n";
	why = mail_parse_received(bad, sizeof(bad) - 1, 1000, &m);
	assert_non_null(why);
	assert_contains(why, "unreadable message: mail_parse: unsafe MIME boundary");
	assert_string_equal(m.from_address, "jean@example.fr");
	free(why);
	parsed_mail_clear(&m);
}

static void
test_broken_multiparts(void **state)
{
	(void)state;
	struct parsed_mail m;
	/* never closed */
	parse_str("Content-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain; charset=utf-8\n\n"
		  "premi\xC3\xA8re partie\n--b1\nContent-Type: text/plain; charset=utf-8\n\nseconde partie\n", &m);
	assert_note(&m, "closing boundary missing");
	assert_contains(m.body, "premi\xC3\xA8re partie");
	assert_contains(m.body, "seconde partie");
	parsed_mail_clear(&m);

	/* the boundary never appears */
	parse_str("Content-Type: multipart/mixed; boundary=\"absent\"\n\nJuste du texte.\n", &m);
	assert_true(m.note_count > 0);
	assert_lacks(m.body, "Content-Type");
	parsed_mail_clear(&m);

	/* no boundary parameter at all */
	parse_str("Content-Type: multipart/mixed\n\n--x\nContent-Type: text/plain\n\nhello\n--x--\n", &m);
	assert_note(&m, "multipart without boundary: read as plain text");
	assert_contains(m.body, "hello");
	assert_int_equal(m.attachment_count, 0);
	parsed_mail_clear(&m);

	/* an empty boundary */
	parse_str("Content-Type: multipart/mixed; boundary=\"\"\n\n--\n\nhello\n----\n", &m);
	assert_string_equal(m.body, "hello\n");
	parsed_mail_clear(&m);
}

static void
test_deep_nesting(void **state)
{
	(void)state;
	struct strbuf sb = { 0 };
	strbuf_adds(&sb, "Subject: deep\nContent-Type: multipart/mixed; boundary=\"b0\"\n\n"
		    "--b0\nContent-Type: text/plain\n\nshallow text\n");
	for (int level = 1; level < 50; level++)
		strbuf_addf(&sb, "--b%d\nContent-Type: multipart/mixed; boundary=\"b%d\"\n\n", level - 1, level);
	strbuf_adds(&sb, "--b49\nContent-Type: text/plain\n\ndeep text\n");
	for (int level = 49; level >= 0; level--)
		strbuf_addf(&sb, "--b%d--\n", level);
	struct parsed_mail m;
	parse_str(sb.data, &m);
	assert_string_equal(m.body, "shallow text\n");
	assert_note(&m, "nested deeper than 20 levels");
	parsed_mail_clear(&m);
	strbuf_free(&sb);
}

static void
test_big_attachment_is_fast(void **state)
{
	(void)state;
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t size = 2 * 1024 * 1024;
	struct strbuf sb = { 0 };
	strbuf_adds(&sb, "Subject: gros fichier\nContent-Type: multipart/mixed; boundary=\"zz\"\n\n"
		    "--zz\nContent-Type: text/plain; charset=utf-8\n\nVoici le fichier.\n"
		    "--zz\nContent-Type: application/zip; name=\"gros.zip\"\nContent-Transfer-Encoding: base64\n\n");
	strbuf_reserve(&sb, size * 4 / 3 + size / 38 + 64);
	unsigned int x = 12345;
	for (size_t i = 0, col = 0; i < size; i += 3) {
		x = x * 1103515245u + 12345u;
		strbuf_addc(&sb, b64[(x >> 8) & 63]);
		strbuf_addc(&sb, b64[(x >> 14) & 63]);
		strbuf_addc(&sb, b64[(x >> 20) & 63]);
		strbuf_addc(&sb, b64[(x >> 26) & 63]);
		if (++col == 19) {
			strbuf_addc(&sb, '\n');
			col = 0;
		}
	}
	strbuf_adds(&sb, "\n--zz--\n");
	/* 2 MiB = 699051 groups of 3 bytes, the last one holding 2: no padding written, so
	 * the decoded size is the whole groups */
	size_t want = ((size + 2) / 3) * 3;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct parsed_mail m;
	parse_bytes(sb.data, sb.len, &m);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(secs < 3.0);        /* tens of milliseconds in practice, even under ASan */
	assert_string_equal(m.body, "Voici le fichier.\n");
	assert_int_equal(m.attachment_count, 1);
	assert_string_equal(m.attachments[0].filename, "gros.zip");
	assert_int_equal(m.attachments[0].size, want);
	parsed_mail_clear(&m);
	strbuf_free(&sb);
}

static void
test_attachments_never_text(void **state)
{
	(void)state;
	struct parsed_mail m;
	parse_str("Content-Type: multipart/mixed; boundary=\"q\"\n\n"
		  "--q\nContent-Type: text/plain; charset=utf-8\n\nLe texte.\n"
		  "--q\nContent-Type: text/plain; charset=utf-8\nContent-Disposition: attachment; filename=\"notes.txt\"\n\nsecret des notes\n"
		  "--q\nContent-Type: text/plain; name=\"inline.txt\"\nContent-Disposition: inline\n\nsecret inline\n"
		  "--q\nContent-Type: application/octet-stream\nContent-Disposition: attachment;\n"
		  " filename*0*=utf-8''caf%C3%A9;\n filename*1*=%20cr%C3%A8me;\n filename*2=\".pdf\"\n"
		  "Content-Transfer-Encoding: base64\n\nYWJj\n"
		  "--q\nContent-Type: application/pdf\nContent-Disposition: attachment; filename*=iso-8859-1'fr'r%E9sum%E9.pdf\n\nx\n"
		  "--q\nContent-Type: image/png; name=\"=?iso-8859-1?q?t=EAte.png?=\"\n\nx\n"
		  "--q\nContent-Type: message/rfc822\n\nSubject: forwarded\n\nsecret forwarded\n"
		  "--q--\n", &m);
	assert_string_equal(m.body, "Le texte.\n");
	assert_int_equal(m.attachment_count, 6);
	assert_string_equal(m.attachments[0].filename, "notes.txt");
	assert_string_equal(m.attachments[0].content_type, "text/plain");
	assert_int_equal(m.attachments[0].size, strlen("secret des notes"));  /* the line break before a boundary is the boundary's */
	assert_string_equal(m.attachments[1].filename, "inline.txt");
	assert_string_equal(m.attachments[2].filename, "caf\xC3\xA9 cr\xC3\xA8me.pdf");
	assert_int_equal(m.attachments[2].size, 3);
	assert_string_equal(m.attachments[3].filename, "r\xC3\xA9sum\xC3\xA9.pdf");
	assert_string_equal(m.attachments[4].filename, "t\xC3\xAAte.png");
	assert_string_equal(m.attachments[5].content_type, "message/rfc822");
	assert_string_equal(m.attachments[5].filename, "");
	parsed_mail_clear(&m);
}

static void
test_html_fallback(void **state)
{
	(void)state;
	struct parsed_mail m;
	/* an empty text/plain alternative: the HTML one is read */
	parse_str("Content-Type: multipart/alternative; boundary=\"a\"\n\n"
		  "--a\nContent-Type: text/plain; charset=utf-8\n\n\n"
		  "--a\nContent-Type: text/html; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
		  "<p>Caf=E9 =80 5&nbsp;&euro;</p>\n--a--\n", &m);
	assert_true(m.body_from_html);
	assert_string_equal(m.body, "Caf\xC3\xA9 \xE2\x82\xAC 5 \xE2\x82\xAC\n");
	parsed_mail_clear(&m);
	/* a plain part wins over an HTML one */
	parse_str("Content-Type: multipart/alternative; boundary=\"a\"\n\n"
		  "--a\nContent-Type: text/html\n\n<b>html</b>\n"
		  "--a\nContent-Type: text/plain\n\nplain\n--a--\n", &m);
	assert_false(m.body_from_html);
	assert_string_equal(m.body, "plain\n");
	parsed_mail_clear(&m);
}

static void
test_delivery_status(void **state)
{
	(void)state;
	struct parsed_mail m;
	parse_str("From: MAILER-DAEMON@mx.example\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\n\n"
		  "--r\nContent-Type: text/plain\n\nNotification.\n"
		  "--r\nContent-Type: message/delivery-status\n\n"
		  "Reporting-MTA: dns; mx.example\n\n"
		  "Final-Recipient: rfc822; one@One.example\nAction: failed\nStatus: 5.1.1\n\n"
		  "Final-Recipient: rfc822;two@two.example\nAction: delivered\n\n"
		  "Original-Recipient: rfc822; x@x.example\nfinal-recipient: RFC822; <three@Three.example>\nACTION: Failed\n"
		  "--r\nContent-Type: text/rfc822-headers\n\nSubject: lost\n--r--\n", &m);
	assert_true(m.is_report);
	assert_int_equal(m.bounced_count, 2);
	assert_string_equal(m.bounced_recipients[0], "one@one.example");
	assert_string_equal(m.bounced_recipients[1], "three@three.example");
	assert_string_equal(m.body, "Notification.\n");
	parsed_mail_clear(&m);
}

/* ---- the question ---- */

static void
test_question_text(void **state)
{
	(void)state;
	static const struct { const char *subject; const char *body; bool subject_wins; } cases[] = {
		{ "Mot de passe perdu", "cf objet", true },
		{ "Mot de passe perdu", "Cf. Objet\n", true },
		{ "Mot de passe perdu", "Voir l'objet", true },
		{ "Mot de passe perdu", "VOIR OBJET !", true },
		{ "Mot de passe perdu", "cf sujet", true },
		{ "Mot de passe perdu", "Bonjour,\n\nma question est dans l\xE2\x80\x99objet.\n\nMerci\n", true },
		{ "Mot de passe perdu", "Bonjour,\n\ncf. objet\n\nCordialement,\n-- \nPaul Martin\nSARL Martin\n", true },
		{ "Mot de passe perdu", "", true },
		{ "Mot de passe perdu", "Bonjour,\n\nCordialement\n", true },
		{ "Mot de passe perdu", "Pourquoi cet objet ?", false },
		{ "Mot de passe perdu", "Comment r\xC3\xA9initialiser mon mot de passe ?", false },
		{ "Mot de passe perdu", "Je ne comprends pas l'objet de votre courrier du 3 mars, pouvez-vous m'expliquer ?", false },
		{ "Re:", "cf objet", false },
		{ "RE: TR:  ", "", false },
		{ "", "cf objet", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct parsed_mail m = { 0 };
		m.subject = (char *)cases[i].subject;
		m.body = (char *)cases[i].body;
		char *q = mail_question_text(&m);
		print_message("case %zu\n", i);
		assert_string_equal(q, cases[i].subject_wins ? cases[i].subject : cases[i].body);
		free(q);
	}
}

/* ---- html_text ---- */

static void
test_html_text(void **state)
{
	(void)state;
	static const struct { const char *html; const char *text; } cases[] = {
		{ "<p>a</p><p>b</p>", "a\n\nb\n" },
		{ "<div>a</div><div><br></div><div>b</div>", "a\n\nb\n" },
		{ "<div>a<br></div><div>b</div>", "a\nb\n" },
		{ "a<br>b", "a\nb\n" },
		{ "a<br><br><br><br><br>b", "a\n\nb\n" },
		{ "<p class=MsoNormal>a<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>b</p>", "a\n\nb\n" },
		{ "<p class=MsoNormal>a</p><p class=MsoNormal>b</p>", "a\nb\n" },
		{ "<html><head><title>T</title><style>p{color:red}</style></head><body>t<script>var x=1;</script></body></html>", "t\n" },
		{ "<ul><li>un</li><li>deux</li></ul>", "un\ndeux\n" },
		{ "caf&eacute;&nbsp;&amp;&#160;th&#xE9; &lt;b&gt; &euro;&rsquo;", "caf\xC3\xA9 & th\xC3\xA9 <b> \xE2\x82\xAC\xE2\x80\x99\n" },
		{ "  mots   \n\t s\xC3\xA9par\xC3\xA9s  ", "mots s\xC3\xA9par\xC3\xA9s\n" },
		{ "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc\n" },
		{ "<pre>l1\n  l2</pre>", "l1\nl2\n" },
		{ "<!-- commentaire -->x<!--[if mso]><xml>y</xml><![endif]-->", "x\n" },
		{ "<b>gras</b> et <i>italique</i>", "gras et italique\n" },
		{ "", "" },
		{ "<p></p><div> </div>", "" },
		{ "<div>&nbsp;</div><p>a</p><div>&nbsp;</div>", "a\n" },
		{ "a<br>&nbsp;<br>&nbsp;<br>&nbsp;<br>b", "a\n\nb\n" },
		{ "bad \xFF byte", "bad \xEF\xBF\xBD byte\n" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *t = html_text(cases[i].html, strlen(cases[i].html), NULL);
		print_message("%s\n", cases[i].html);
		assert_string_equal(t, cases[i].text);
		free(t);
	}
}

static void
test_html_text_word_sample(void **state)
{
	(void)state;
	/* a06's HTML alternative, read on its own */
	char *path = xasprintf("%s/mail/a06.eml", TEST_DATA_DIR);
	char *err = NULL;
	size_t len;
	char *raw = file_read_all(path, 1 << 20, &len, &err);
	assert_non_null(raw);
	/* drop the text/plain alternative so the HTML one is used */
	char *plain = strstr(raw, "Content-Type: text/plain");
	assert_non_null(plain);
	memcpy(plain, "Content-Type: text/xxxxx", 24);
	struct parsed_mail m;
	parse_bytes(raw, len, &m);
	assert_true(m.body_from_html);
	assert_lacks(m.body, "MsoNormal");
	assert_lacks(m.body, "Cambria");
	assert_lacks(m.body, "\n\n\n");
	assert_true(str_starts_with(m.body, "Bonjour,\n\nJ'ai re\xC3\xA7u ce matin un courrier de relance"));
	assert_contains(m.body, "\xC2\xAB En attente de pi\xC3\xA8" "ces \xC2\xBB).\n\nJ'ai les documents");
	assert_contains(m.body, "Claire Lefebvre\nAssistante RH - Laiterie du Bocage\nT\xC3\xA9l : 02 61 91 23 45\n");
	assert_int_equal(m.attachment_count, 1);        /* the renamed part */
	parsed_mail_clear(&m);
	free(raw);
	free(path);
}

/* ---- html_text on hostile nesting: work and memory linear in the input ---- */

/* What one html_text call cost, measured in a child process so that its peak memory is
 * its own: seconds, and the growth of the resident set in KiB. */
struct html_cost {
	double seconds;
	long rss_growth_kib;
	bool flattened;
	bool text_kept;         /* the text after the tags came out */
};

static struct html_cost
html_cost(const char *html, size_t len, const char *tail)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		struct rusage before, after;
		struct timespec t0, t1;
		getrusage(RUSAGE_SELF, &before);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		struct html_cost c = {0};
		char *text = html_text(html, len, &c.flattened);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		getrusage(RUSAGE_SELF, &after);
		c.seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		c.rss_growth_kib = after.ru_maxrss - before.ru_maxrss;
		c.text_kept = strstr(text, tail) != NULL;
		free(text);
		_exit(write(fds[1], &c, sizeof(c)) == (ssize_t)sizeof(c) ? 0 : 1);
	}
	close(fds[1]);
	struct html_cost c = {0};
	assert_int_equal(read(fds[0], &c, sizeof(c)), (ssize_t)sizeof(c));
	close(fds[0]);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return c;
}

/* size bytes of unit repeated (never closed), then a sentence. */
static char *
nested_html(const char *unit, size_t size, const char *tail, size_t *len_r)
{
	struct strbuf sb = {0};
	while (sb.len < size)
		strbuf_adds(&sb, unit);
	strbuf_adds(&sb, tail);
	*len_r = sb.len;
	return strbuf_detach(&sb);
}

/* 20,000 unclosed <div> once took gumbo 16 s and 3 GB (its work grows with the square of
 * the depth); 200 KB and 400 KB of any such nesting now take well under a second and a
 * few MB, and the text after them is kept. The bounds are generous (sanitizers, loaded machines)
 * builds; the figures are printed. */
static void
test_html_deep_nesting_is_linear(void **state)
{
	(void)state;
	static const char *const units[] = {
		"<div>", "<div><span>", "<b>", "<table>", "<blockquote>", "<a href=\"https://x.test/\">",
		"<font color=red>", "<ul><li>", "<div class='a\"b'>",
	};
	const char *tail = "Bonjour, je n'arrive pas \xC3\xA0 me connecter.";
	for (size_t u = 0; u < sizeof(units) / sizeof(*units); u++) {
		for (size_t size = 200 * 1024; size <= 400 * 1024; size *= 2) {
			size_t len;
			char *html = nested_html(units[u], size, tail, &len);
			struct html_cost c = html_cost(html, len, "me connecter");
			print_message("%-28s %3zu KB: %.3f s, +%ld KiB%s\n", units[u], size / 1024, c.seconds,
				      c.rss_growth_kib, c.flattened ? " (flattened)" : "");
			assert_true(c.seconds < 10.0);  /* the quadratic parser took 73 s at 200 KB */
			assert_true(c.rss_growth_kib < 128 * 1024);
			assert_true(c.text_kept);
			free(html);
		}
	}
}

/* The cap: 256 open elements are kept as they are, deeper tags are dropped, never their
 * text; comments and raw-text elements do not count, void elements do not nest. */
static void
test_html_depth_cap(void **state)
{
	(void)state;
	struct strbuf sb = {0};
	for (int i = 0; i < 256; i++)
		strbuf_adds(&sb, "<div><br><img src=x><!-- <div> --><p>");
	strbuf_adds(&sb, "<style><div><div></style>au fond");
	for (int i = 0; i < 256; i++)
		strbuf_adds(&sb, "</div>");
	bool flattened = true;
	char *t = html_text(sb.data, sb.len, &flattened);
	assert_false(flattened);
	assert_contains(t, "au fond");
	free(t);
	strbuf_free(&sb);
	for (int i = 0; i < 300; i++)
		strbuf_addf(&sb, "<div>%d ", i);
	strbuf_adds(&sb, "fin");
	for (int i = 0; i < 300; i++)
		strbuf_adds(&sb, "</div>");
	strbuf_adds(&sb, "<p>apr\xC3\xA8s</p>");
	t = html_text(sb.data, sb.len, &flattened);
	assert_true(flattened);
	assert_contains(t, "0 ");
	assert_contains(t, "299 fin");
	assert_contains(t, "apr\xC3\xA8s");
	assert_lacks(t, "<div>");
	free(t);
	strbuf_free(&sb);
}

/* Through mail_parse: the hostile HTML mail is read, and says what was done. */
static void
test_html_deep_nesting_mail(void **state)
{
	(void)state;
	struct strbuf sb = {0};
	strbuf_adds(&sb, "From: a@example.test\nSubject: Connexion\nContent-Type: text/html; charset=utf-8\n\n");
	while (sb.len < 400 * 1024)
		strbuf_adds(&sb, "<div>");
	strbuf_adds(&sb, "Je n'arrive pas \xC3\xA0 me connecter \xC3\xA0 mon espace.\n");
	struct parsed_mail m;
	parse_bytes(sb.data, sb.len, &m);
	assert_true(m.body_from_html);
	assert_contains(m.body, "me connecter");
	bool noted = false;
	for (size_t i = 0; i < m.note_count; i++)
		noted |= strstr(m.notes[i], "HTML nested deeper than 256") != NULL;
	assert_true(noted);
	parsed_mail_clear(&m);
	strbuf_free(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_sample_windows1252),
		cmocka_unit_test(test_sample_html_only),
		cmocka_unit_test(test_sample_bounce),
		cmocka_unit_test(test_sample_attachment),
		cmocka_unit_test(test_sample_apple_two_parts),
		cmocka_unit_test(test_sample_question_in_subject),
		cmocka_unit_test(test_sample_odd_case_headers),
		cmocka_unit_test(test_sample_headers),
		cmocka_unit_test(test_sample_truncated_multipart),
		cmocka_unit_test(test_sample_base64_crlf),
		cmocka_unit_test(test_samples_headers_only),
		cmocka_unit_test(test_subject_decoding),
		cmocka_unit_test(test_unknown_charset_in_header),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_address_lists),
		cmocka_unit_test(test_charsets),
		cmocka_unit_test(test_transfer_encodings),
		cmocka_unit_test(test_qp_ending_mid_escape),
		cmocka_unit_test(test_flowed),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_no_headers_and_empty),
		cmocka_unit_test(test_unsafe_boundary),
		cmocka_unit_test(test_boundary_in_text),
		cmocka_unit_test(test_spaces_before_headers),
		cmocka_unit_test(test_parse_received),
		cmocka_unit_test(test_broken_multiparts),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_big_attachment_is_fast),
		cmocka_unit_test(test_attachments_never_text),
		cmocka_unit_test(test_html_fallback),
		cmocka_unit_test(test_delivery_status),
		cmocka_unit_test(test_question_text),
		cmocka_unit_test(test_html_text),
		cmocka_unit_test(test_html_text_word_sample),
		cmocka_unit_test(test_html_deep_nesting_is_linear),
		cmocka_unit_test(test_html_depth_cap),
		cmocka_unit_test(test_html_deep_nesting_mail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
