/* src/sim/tls.c - the simulated tenant's self-signed certificate.
 *
 * One EC P-256 key and one self-signed certificate for CN=localhost with
 * subjectAltName IP:127.0.0.1 and DNS:localhost. The certificate doubles as
 * the CA file clients trust. A pair already in the directory is reused, so
 * a restarted sim keeps the CA its clients were configured with. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sim.h"

static void ssl_err(mw_err *e, const char *what)
{
	char buf[256];
	unsigned long code = ERR_get_error();

	ERR_error_string_n(code, buf, sizeof(buf));
	mw_err_set(e, "sim TLS: %s failed: %s", what, code ? buf : "unknown OpenSSL error");
	ERR_clear_error();
}

static char *bio_text(BIO *b)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);

	return mw_xstrndup(p, (size_t)n);
}

static int add_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -1;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static int make_pair(const char *cn, char **cert_pem, char **key_pem, mw_err *e)
{
	char san[300];
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = NULL;
	X509_NAME *name;
	BIO *cb = NULL, *kb = NULL;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	int rc = -1;

	if (cn)
		snprintf(san, sizeof(san), "DNS:%s", cn);
	else
		snprintf(san, sizeof(san), "IP:127.0.0.1,DNS:localhost");
	if (!key) {
		ssl_err(e, "EC key generation");
		return -1;
	}
	cert = X509_new();
	if (!cert || !X509_set_version(cert, 2) || RAND_bytes(serial, sizeof(serial)) != 1) {
		ssl_err(e, "certificate setup");
		goto out;
	}
	serial[0] &= 0x7f; /* a positive serial, as RFC 5280 asks */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert))) {
		ssl_err(e, "certificate serial");
		goto out;
	}
	/* Backdated a day so a client clock slightly behind still accepts it. */
	X509_gmtime_adj(X509_getm_notBefore(cert), -86400L);
	X509_gmtime_adj(X509_getm_notAfter(cert), 86400L * 825);
	name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
				   (const unsigned char *)"mimewatch-sim", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)(cn ? cn : "localhost"), -1, -1, 0);
	X509_set_issuer_name(cert, name);
	X509_set_pubkey(cert, key);
	/* A self-signed leaf that is also its own trust anchor: the key
	 * identifiers keep strict verifiers (Python 3.13's default) content. */
	if (add_ext(cert, NID_basic_constraints, "critical,CA:FALSE") ||
	    add_ext(cert, NID_key_usage, "critical,digitalSignature") ||
	    add_ext(cert, NID_ext_key_usage, "serverAuth") ||
	    add_ext(cert, NID_subject_alt_name, san) ||
	    add_ext(cert, NID_subject_key_identifier, "hash") ||
	    add_ext(cert, NID_authority_key_identifier, "keyid:always")) {
		ssl_err(e, "certificate extensions");
		goto out;
	}
	if (!X509_sign(cert, key, EVP_sha256())) {
		ssl_err(e, "certificate signing");
		goto out;
	}
	cb = BIO_new(BIO_s_mem());
	kb = BIO_new(BIO_s_mem());
	if (!cb || !kb || !PEM_write_bio_X509(cb, cert) ||
	    !PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL)) {
		ssl_err(e, "PEM encoding");
		goto out;
	}
	*cert_pem = bio_text(cb);
	*key_pem = bio_text(kb);
	rc = 0;
out:
	BIO_free(cb);
	BIO_free(kb);
	BN_free(bn);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

/* 1 when the stored pair parses, matches and is not about to expire. */
static int pair_usable(const char *cert_pem, const char *key_pem, const char *cn)
{
	BIO *cb = BIO_new_mem_buf(cert_pem, -1), *kb = BIO_new_mem_buf(key_pem, -1);
	X509 *cert = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *key = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	int ok = 0;

	if (cert && key && X509_check_private_key(cert, key) == 1) {
		time_t soon = time(NULL) + 86400;

		/* The stored pair must name what is asked for now, and nothing else. */
		ok = X509_cmp_time(X509_get0_notAfter(cert), &soon) > 0 &&
		     (cn ? X509_check_host(cert, cn, 0, 0, NULL) == 1 &&
			   X509_check_ip_asc(cert, "127.0.0.1", 0) != 1 :
			   X509_check_ip_asc(cert, "127.0.0.1", 0) == 1);
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	BIO_free(cb);
	BIO_free(kb);
	ERR_clear_error();
	return ok;
}

static int write_private(const char *path, const char *text, mw_err *e)
{
	if (mw_write_file_atomic(path, text, strlen(text), e) < 0)
		return -1;
	/* Whatever the helper's temp-file mode, these stay owner-only. */
	if (chmod(path, 0600) < 0) {
		mw_err_set(e, "%s: chmod 0600: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int sim_tls_prepare(const char *dir, char **cert_pem, char **key_pem, mw_err *e)
{
	return sim_tls_prepare_named(dir, NULL, cert_pem, key_pem, e);
}

int sim_tls_prepare_named(const char *dir, const char *name, char **cert_pem, char **key_pem,
			  mw_err *e)
{
	char cpath[4096], kpath[4096];
	char *c = NULL, *k = NULL;
	size_t n;
	mw_err ignore;

	if (mw_mkdir_p(dir, e) < 0)
		return -1;
	snprintf(cpath, sizeof(cpath), "%s/sim-ca.pem", dir);
	snprintf(kpath, sizeof(kpath), "%s/sim-key.pem", dir);
	if (mw_read_file(cpath, 1 << 20, &c, &n, &ignore) == 0 &&
	    mw_read_file(kpath, 1 << 20, &k, &n, &ignore) == 0 && pair_usable(c, k, name)) {
		*cert_pem = c;
		*key_pem = k;
		return 0;
	}
	free(c);
	free(k);
	if (name && (!*name || strlen(name) > 200 || strpbrk(name, ", \t\r\n"))) {
		mw_err_set(e, "--cert-name \"%.80s\": need a plain DNS name", name);
		return -1;
	}
	if (make_pair(name, cert_pem, key_pem, e) < 0)
		return -1;
	if (write_private(kpath, *key_pem, e) < 0 || write_private(cpath, *cert_pem, e) < 0) {
		free(*cert_pem);
		free(*key_pem);
		*cert_pem = *key_pem = NULL;
		return -1;
	}
	return 0;
}
