/* VOMS attribute certificates: the RFC 3281 profile VOMS servers issue, carried in proxy
 * extension 1.3.6.1.4.1.8005.100.100.5. OpenSSL 3.0 has no AC type, so the structures are
 * declared here with ASN.1 templates; AC_INFO keeps its received encoding (ASN1_SEQUENCE_enc)
 * so that the signature is checked over the bytes the server signed, never a re-encoding.
 * The checks follow reference/credentials.md section 3; unlike libvomsapi, an AC that fails
 * any of them refuses the credential instead of being dropped. */
#include "voms.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/fdutil.h"
#include "common/strutil.h"

#define OID_VOMS_ACSEQ "1.3.6.1.4.1.8005.100.100.5"
#define OID_VOMS_FQAN "1.3.6.1.4.1.8005.100.100.4"
#define OID_VOMS_CERTS "1.3.6.1.4.1.8005.100.100.10"

#define VOMS_MAX_ACS 8
#define VOMS_MAX_CERTS 8
#define VOMS_MAX_ITEMS 32 /* attributes, extensions, targets per AC */
#define VOMS_CLOCK_SKEW 300
#define VOMS_MAX_FILE (64 * 1024)
#define VOMS_MAX_SERVER_CERTS 16
#define LSC_MAX_LINES 64

#define ac_deny(err, ...) cred_deny(err, "invalid VOMS attributes", "VOMS AC: " __VA_ARGS__)

/* --- ASN.1 structures (RFC 3281 / RFC 5755 as used by VOMS) --------------------------------- */

typedef struct {
        GENERAL_NAMES *issuer;
        ASN1_INTEGER *serial;
        ASN1_BIT_STRING *uid;
} GX_AC_ISSUER_SERIAL;

ASN1_SEQUENCE(GX_AC_ISSUER_SERIAL) = {
        ASN1_SEQUENCE_OF(GX_AC_ISSUER_SERIAL, issuer, GENERAL_NAME),
        ASN1_SIMPLE(GX_AC_ISSUER_SERIAL, serial, ASN1_INTEGER),
        ASN1_OPT(GX_AC_ISSUER_SERIAL, uid, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(GX_AC_ISSUER_SERIAL)

/* objectDigestInfo [2] is not modelled: an AC using it does not parse and is refused. */
typedef struct {
        GX_AC_ISSUER_SERIAL *base_id;
        GENERAL_NAMES *entity_name;
} GX_AC_HOLDER;

ASN1_SEQUENCE(GX_AC_HOLDER) = {
        ASN1_IMP_OPT(GX_AC_HOLDER, base_id, GX_AC_ISSUER_SERIAL, 0),
        ASN1_IMP_SEQUENCE_OF_OPT(GX_AC_HOLDER, entity_name, GENERAL_NAME, 1),
} static_ASN1_SEQUENCE_END(GX_AC_HOLDER)

typedef struct {
        GENERAL_NAMES *names;
} GX_AC_V2FORM;

ASN1_SEQUENCE(GX_AC_V2FORM) = {
        ASN1_SEQUENCE_OF_OPT(GX_AC_V2FORM, names, GENERAL_NAME),
} static_ASN1_SEQUENCE_END(GX_AC_V2FORM)

typedef struct {
        ASN1_GENERALIZEDTIME *not_before;
        ASN1_GENERALIZEDTIME *not_after;
} GX_AC_VALIDITY;

ASN1_SEQUENCE(GX_AC_VALIDITY) = {
        ASN1_SIMPLE(GX_AC_VALIDITY, not_before, ASN1_GENERALIZEDTIME),
        ASN1_SIMPLE(GX_AC_VALIDITY, not_after, ASN1_GENERALIZEDTIME),
} static_ASN1_SEQUENCE_END(GX_AC_VALIDITY)

typedef struct {
        ASN1_ENCODING enc;
        ASN1_INTEGER *version;
        GX_AC_HOLDER *holder;
        GX_AC_V2FORM *issuer;
        X509_ALGOR *sig_alg;
        ASN1_INTEGER *serial;
        GX_AC_VALIDITY *validity;
        STACK_OF(X509_ATTRIBUTE) *attributes;
        ASN1_BIT_STRING *issuer_uid;
        STACK_OF(X509_EXTENSION) *extensions;
} GX_AC_INFO;

ASN1_SEQUENCE_enc(GX_AC_INFO, enc, NULL) = {
        ASN1_SIMPLE(GX_AC_INFO, version, ASN1_INTEGER),
        ASN1_SIMPLE(GX_AC_INFO, holder, GX_AC_HOLDER),
        ASN1_IMP(GX_AC_INFO, issuer, GX_AC_V2FORM, 0),
        ASN1_SIMPLE(GX_AC_INFO, sig_alg, X509_ALGOR),
        ASN1_SIMPLE(GX_AC_INFO, serial, ASN1_INTEGER),
        ASN1_SIMPLE(GX_AC_INFO, validity, GX_AC_VALIDITY),
        ASN1_SEQUENCE_OF(GX_AC_INFO, attributes, X509_ATTRIBUTE),
        ASN1_OPT(GX_AC_INFO, issuer_uid, ASN1_BIT_STRING),
        ASN1_SEQUENCE_OF_OPT(GX_AC_INFO, extensions, X509_EXTENSION),
} static_ASN1_SEQUENCE_END_ref(GX_AC_INFO, GX_AC_INFO)

typedef struct {
        GX_AC_INFO *info;
        X509_ALGOR *sig_alg;
        ASN1_BIT_STRING *signature;
} GX_AC;

ASN1_SEQUENCE(GX_AC) = {
        ASN1_SIMPLE(GX_AC, info, GX_AC_INFO),
        ASN1_SIMPLE(GX_AC, sig_alg, X509_ALGOR),
        ASN1_SIMPLE(GX_AC, signature, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(GX_AC)

DEFINE_STACK_OF(GX_AC)

/* The proxy extension: SEQUENCE { SEQUENCE OF AC } */
typedef struct {
        STACK_OF(GX_AC) *acs;
} GX_AC_SEQ;

ASN1_SEQUENCE(GX_AC_SEQ) = {
        ASN1_SEQUENCE_OF(GX_AC_SEQ, acs, GX_AC),
} static_ASN1_SEQUENCE_END(GX_AC_SEQ)

/* The AC extension carrying the signer's chain: SEQUENCE { SEQUENCE OF Certificate } */
typedef struct {
        STACK_OF(X509) *certs;
} GX_AC_CERTS;

ASN1_SEQUENCE(GX_AC_CERTS) = {
        ASN1_SEQUENCE_OF(GX_AC_CERTS, certs, X509),
} static_ASN1_SEQUENCE_END(GX_AC_CERTS)

/* The value of attribute 1.3.6.1.4.1.8005.100.100.4: IetfAttrSyntax. */
typedef struct {
        GENERAL_NAMES *authority;
        STACK_OF(ASN1_TYPE) *values;
} GX_IETF_ATTR;

ASN1_SEQUENCE(GX_IETF_ATTR) = {
        ASN1_IMP_SEQUENCE_OF_OPT(GX_IETF_ATTR, authority, GENERAL_NAME, 0),
        ASN1_SEQUENCE_OF(GX_IETF_ATTR, values, ASN1_ANY),
} static_ASN1_SEQUENCE_END(GX_IETF_ATTR)

/* Targets (2.5.29.55), in the two encodings in use; targetCert is not modelled in either, so
 * an extension using it does not parse and is refused.
 * VOMS' C library: SEQUENCE { SEQUENCE OF SEQUENCE { [0] name, [1] group } } */
typedef struct {
        GENERAL_NAME *name;
        GENERAL_NAME *group;
} GX_AC_TARGET;

ASN1_SEQUENCE(GX_AC_TARGET) = {
        ASN1_EXP_OPT(GX_AC_TARGET, name, GENERAL_NAME, 0),
        ASN1_EXP_OPT(GX_AC_TARGET, group, GENERAL_NAME, 1),
} static_ASN1_SEQUENCE_END(GX_AC_TARGET)

DEFINE_STACK_OF(GX_AC_TARGET)

typedef struct {
        STACK_OF(GX_AC_TARGET) *targets;
} GX_AC_TARGETS;

ASN1_SEQUENCE(GX_AC_TARGETS) = {
        ASN1_SEQUENCE_OF(GX_AC_TARGETS, targets, GX_AC_TARGET),
} static_ASN1_SEQUENCE_END(GX_AC_TARGETS)

/* RFC 5755: SEQUENCE OF Targets, Targets ::= SEQUENCE OF Target,
 * Target ::= CHOICE { [0] targetName, [1] targetGroup } */
typedef struct {
        int type;
        union {
                GENERAL_NAME *name;
                GENERAL_NAME *group;
        } d;
} GX_RFC_TARGET;

ASN1_CHOICE(GX_RFC_TARGET) = {
        ASN1_EXP(GX_RFC_TARGET, d.name, GENERAL_NAME, 0),
        ASN1_EXP(GX_RFC_TARGET, d.group, GENERAL_NAME, 1),
} static_ASN1_CHOICE_END(GX_RFC_TARGET)

ASN1_ITEM_TEMPLATE(GX_RFC_TARGETS) =
        ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, targets, GX_RFC_TARGET)
static_ASN1_ITEM_TEMPLATE_END(GX_RFC_TARGETS)

ASN1_ITEM_TEMPLATE(GX_RFC_TARGET_INFO) =
        ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, info, GX_RFC_TARGETS)
static_ASN1_ITEM_TEMPLATE_END(GX_RFC_TARGET_INFO)

/* Decode exactly len bytes as it; trailing bytes are an error. */
static void *d2i_exact(const ASN1_ITEM *it, const unsigned char *der, size_t len)
{
        if (!der || len == 0 || len > LONG_MAX)
                return NULL;
        const unsigned char *p = der;
        ASN1_VALUE *v = ASN1_item_d2i(NULL, &p, (long)len, it);
        if (v && p != der + len) {
                ASN1_item_free(v, it);
                v = NULL;
        }
        return v;
}

static bool obj_is(const ASN1_OBJECT *o, const char *oid)
{
        char buf[80];
        int n = OBJ_obj2txt(buf, sizeof(buf), o, 1);
        return n > 0 && (size_t)n < sizeof(buf) && strcmp(buf, oid) == 0;
}

/* The single dirName of names, or NULL. */
static const X509_NAME *single_dirname(const GENERAL_NAMES *names)
{
        if (sk_GENERAL_NAME_num(names) != 1)
                return NULL;
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, 0);
        return gn->type == GEN_DIRNAME ? gn->d.directoryName : NULL;
}

/* --- structural checks ------------------------------------------------------------------ */

struct ac_facts {
        char vo[256];
        char host[256];
        char fqans[GX_MAX_FQANS][GX_FQAN_MAX];
        size_t n_fqans;
        int64_t not_before, not_after;
        const X509_NAME *issuer;   /* points into the AC */
        AUTHORITY_KEYID *akid;     /* owned */
        GX_AC_CERTS *certs;        /* owned; NULL if the AC carries no chain */
};

static void ac_facts_free(struct ac_facts *f)
{
        AUTHORITY_KEYID_free(f->akid);
        ASN1_item_free((ASN1_VALUE *)f->certs, ASN1_ITEM_rptr(GX_AC_CERTS));
}

static bool name_char_ok(char c, bool host)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '-' || (!host && c == '_');
}

/* vo and host become path components (vomsdir/<vo>/<host>.lsc): only a plain name may. */
static bool name_ok(const char *s, size_t n, bool host)
{
        if (n == 0 || n > 255 || s[0] == '.' || s[0] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!name_char_ok(s[i], host))
                        return false;
        return true;
}

/* policyAuthority "vo://host:port" */
static int parse_authority(const ASN1_IA5STRING *uri, struct ac_facts *f, struct gx_error *err)
{
        const char *s = (const char *)ASN1_STRING_get0_data(uri);
        size_t n = (size_t)ASN1_STRING_length(uri);
        const char *sep = n ? memmem(s, n, "://", 3) : NULL;
        const char *colon = NULL;
        if (sep)
                for (const char *p = s + n; p > sep + 3 && !colon; p--)
                        if (p[-1] == ':')
                                colon = p - 1;
        if (!sep || !colon)
                return ac_deny(err, "policy authority is not vo://host:port");
        size_t vl = (size_t)(sep - s), hl = (size_t)(colon - (sep + 3));
        size_t pl = n - (size_t)(colon + 1 - s);
        if (!name_ok(s, vl, false) || !name_ok(sep + 3, hl, true) || pl == 0 || pl > 5)
                return ac_deny(err, "policy authority has an invalid VO, host or port");
        for (size_t i = 0; i < pl; i++)
                if (colon[1 + i] < '0' || colon[1 + i] > '9')
                        return ac_deny(err, "policy authority has an invalid port");
        memcpy(f->vo, s, vl);
        f->vo[vl] = '\0';
        memcpy(f->host, sep + 3, hl);
        f->host[hl] = '\0';
        return 0;
}

static void fqan_normalise(char *s)
{
        static const char *const suffixes[] = {"/Capability=NULL", "/Role=NULL"};
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                size_t n = strlen(s), k = strlen(suffixes[i]);
                if (n > k && strcmp(s + n - k, suffixes[i]) == 0)
                        s[n - k] = '\0';
        }
}

static int fqan_add(struct ac_facts *f, const ASN1_TYPE *t, struct gx_error *err)
{
        if (t->type != V_ASN1_OCTET_STRING)
                return ac_deny(err, "FQAN is not an OCTET STRING");
        const unsigned char *s = ASN1_STRING_get0_data(t->value.octet_string);
        size_t n = (size_t)ASN1_STRING_length(t->value.octet_string);
        if (n < 2 || n >= GX_FQAN_MAX)
                return ac_deny(err, "FQAN of %zu bytes", n);
        /* Printable ASCII only; no empty path components. */
        for (size_t i = 0; i < n; i++)
                if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '"' || s[i] == '\\' ||
                    (s[i] == '/' && (i + 1 == n || s[i + 1] == '/')))
                        return ac_deny(err, "malformed FQAN");
        size_t vl = strlen(f->vo);
        if (s[0] != '/' || n < vl + 1 || memcmp(s + 1, f->vo, vl) != 0 ||
            (n > vl + 1 && s[vl + 1] != '/'))
                return ac_deny(err, "FQAN outside VO %s", f->vo);
        if (f->n_fqans >= GX_MAX_FQANS)
                return ac_deny(err, "more than %d FQANs", GX_MAX_FQANS);
        char *dst = f->fqans[f->n_fqans++];
        memcpy(dst, s, n);
        dst[n] = '\0';
        fqan_normalise(dst);
        return 0;
}

static int parse_attributes(const STACK_OF(X509_ATTRIBUTE) *attrs, struct ac_facts *f,
                            struct gx_error *err)
{
        int n = sk_X509_ATTRIBUTE_num(attrs), found = 0, r = 0;
        if (n > VOMS_MAX_ITEMS)
                return ac_deny(err, "too many attributes");
        for (int i = 0; i < n && r == 0; i++) {
                X509_ATTRIBUTE *a = sk_X509_ATTRIBUTE_value(attrs, i);
                if (!obj_is(X509_ATTRIBUTE_get0_object(a), OID_VOMS_FQAN))
                        continue;
                if (found++)
                        return ac_deny(err, "more than one FQAN attribute");
                const ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(a, 0);
                if (X509_ATTRIBUTE_count(a) != 1 || !t || t->type != V_ASN1_SEQUENCE)
                        return ac_deny(err, "FQAN attribute is not one IetfAttrSyntax");
                GX_IETF_ATTR *ia = d2i_exact(ASN1_ITEM_rptr(GX_IETF_ATTR),
                                             ASN1_STRING_get0_data(t->value.sequence),
                                             (size_t)ASN1_STRING_length(t->value.sequence));
                if (!ia)
                        return ac_deny(err, "undecodable FQAN attribute");
                const GENERAL_NAME *gn = sk_GENERAL_NAME_num(ia->authority) == 1
                                                 ? sk_GENERAL_NAME_value(ia->authority, 0)
                                                 : NULL;
                int nv = sk_ASN1_TYPE_num(ia->values);
                if (!gn || gn->type != GEN_URI)
                        r = ac_deny(err, "FQAN attribute needs exactly one policy authority URI");
                else if (nv < 1)
                        r = ac_deny(err, "no FQANs");
                else
                        r = parse_authority(gn->d.uniformResourceIdentifier, f, err);
                for (int k = 0; k < nv && r == 0; k++)
                        r = fqan_add(f, sk_ASN1_TYPE_value(ia->values, k), err);
                ASN1_item_free((ASN1_VALUE *)ia, ASN1_ITEM_rptr(GX_IETF_ATTR));
        }
        if (r == 0 && !found)
                r = ac_deny(err, "no FQAN attribute");
        return r;
}

static bool target_is(const GENERAL_NAME *gn, const char *fqdn)
{
        if (!gn || (gn->type != GEN_URI && gn->type != GEN_DNS))
                return false;
        const ASN1_IA5STRING *s = gn->d.ia5;
        size_t n = (size_t)ASN1_STRING_length(s);
        return n == strlen(fqdn) &&
               strncasecmp((const char *)ASN1_STRING_get0_data(s), fqdn, n) == 0;
}

static int check_targets(const X509_EXTENSION *ex, const char *host_fqdn, struct gx_error *err)
{
        const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data((X509_EXTENSION *)ex);
        const unsigned char *der = ASN1_STRING_get0_data(v);
        size_t len = (size_t)ASN1_STRING_length(v);
        GX_AC_TARGETS *voms = d2i_exact(ASN1_ITEM_rptr(GX_AC_TARGETS), der, len);
        OPENSSL_STACK *rfc = voms ? NULL : d2i_exact(ASN1_ITEM_rptr(GX_RFC_TARGET_INFO), der, len);
        bool match = false;
        int seen = 0;

        if (!voms && !rfc)
                return ac_deny(err, "undecodable Targets extension");
        if (!host_fqdn || !*host_fqdn)
                seen = VOMS_MAX_ITEMS;
        for (int i = 0; voms && i < sk_GX_AC_TARGET_num(voms->targets) && !match &&
                        seen++ < VOMS_MAX_ITEMS;
             i++) {
                const GX_AC_TARGET *t = sk_GX_AC_TARGET_value(voms->targets, i);
                match = target_is(t->name, host_fqdn) || target_is(t->group, host_fqdn);
        }
        for (int i = 0; rfc && i < OPENSSL_sk_num(rfc) && !match; i++) {
                const OPENSSL_STACK *targets = OPENSSL_sk_value(rfc, i);
                for (int k = 0; k < OPENSSL_sk_num(targets) && !match && seen++ < VOMS_MAX_ITEMS;
                     k++) {
                        const GX_RFC_TARGET *t = OPENSSL_sk_value(targets, k);
                        match = target_is(t->d.name, host_fqdn);
                }
        }
        ASN1_item_free((ASN1_VALUE *)voms, ASN1_ITEM_rptr(GX_AC_TARGETS));
        ASN1_item_free((ASN1_VALUE *)rfc, ASN1_ITEM_rptr(GX_RFC_TARGET_INFO));
        if (!match) {
                char esc[300];
                gx_escape(esc, sizeof(esc), host_fqdn ? host_fqdn : "");
                return ac_deny(err, "this host (%s) is not among the AC's targets", esc);
        }
        return 0;
}

static int parse_extensions(const STACK_OF(X509_EXTENSION) *exts, const char *host_fqdn,
                            struct ac_facts *f, struct gx_error *err)
{
        int n = sk_X509_EXTENSION_num(exts);
        bool norev = false;
        if (n > VOMS_MAX_ITEMS)
                return ac_deny(err, "too many extensions");
        for (int i = 0; i < n; i++) {
                const X509_EXTENSION *ex = sk_X509_EXTENSION_value(exts, i);
                const ASN1_OBJECT *obj = X509_EXTENSION_get_object((X509_EXTENSION *)ex);
                const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data((X509_EXTENSION *)ex);
                const unsigned char *der = ASN1_STRING_get0_data(v);
                size_t len = (size_t)ASN1_STRING_length(v);
                int nid = OBJ_obj2nid(obj), r = 0;
                for (int k = i + 1; k < n; k++) {
                        X509_EXTENSION *other = sk_X509_EXTENSION_value(exts, k);
                        if (OBJ_cmp(obj, X509_EXTENSION_get_object(other)) == 0)
                                return ac_deny(err, "duplicate extension");
                }
                if (nid == NID_target_information)
                        r = check_targets(ex, host_fqdn, err);
                else if (X509_EXTENSION_get_critical(ex)) {
                        char oid[80] = "?";
                        OBJ_obj2txt(oid, sizeof(oid), obj, 1);
                        r = ac_deny(err, "unknown critical extension %s", oid);
                } else if (nid == NID_no_rev_avail)
                        norev = true;
                else if (nid == NID_authority_key_identifier) {
                        f->akid = d2i_exact(ASN1_ITEM_rptr(AUTHORITY_KEYID), der, len);
                        if (!f->akid)
                                r = ac_deny(err, "undecodable authority key identifier");
                } else if (obj_is(obj, OID_VOMS_CERTS)) {
                        f->certs = d2i_exact(ASN1_ITEM_rptr(GX_AC_CERTS), der, len);
                        int nc = f->certs ? sk_X509_num(f->certs->certs) : 0;
                        if (nc < 1 || nc > VOMS_MAX_CERTS)
                                r = ac_deny(err, "undecodable signer certificate chain");
                }
                if (r < 0)
                        return r;
        }
        if (!norev || !f->akid)
                return ac_deny(err, "noRevAvail or authority key identifier missing");
        return 0;
}

static int check_sig_alg(const X509_ALGOR *alg, struct gx_error *err)
{
        const ASN1_OBJECT *obj;
        int md = NID_undef, pk = NID_undef;
        X509_ALGOR_get0(&obj, NULL, NULL, alg);
        if (!OBJ_find_sigid_algs(OBJ_obj2nid(obj), &md, &pk))
                return ac_deny(err, "unknown signature algorithm");
        /* The same bar as auth level 2 for certificates. */
        if (md == NID_md2 || md == NID_md4 || md == NID_md5 || md == NID_md5_sha1 ||
            md == NID_sha1)
                return ac_deny(err, "weak signature algorithm %s", OBJ_nid2sn(md));
        return 0;
}

/* Every check that needs neither the holder nor a trust anchor. */
static int ac_parse(const GX_AC *ac, const char *host_fqdn, struct ac_facts *f,
                    struct gx_error *err)
{
        const GX_AC_INFO *info = ac->info;
        int r;

        if (ASN1_INTEGER_get(info->version) != 1)
                return ac_deny(err, "not a version 2 AC");
        if (X509_ALGOR_cmp(info->sig_alg, ac->sig_alg) != 0)
                return ac_deny(err, "inner and outer signature algorithms differ");
        r = check_sig_alg(ac->sig_alg, err);
        if (r < 0)
                return r;
        if (!info->holder->base_id || !single_dirname(info->holder->base_id->issuer))
                return ac_deny(err, "holder is not a baseCertificateID with one directory name");
        f->issuer = info->issuer ? single_dirname(info->issuer->names) : NULL;
        if (!f->issuer)
                return ac_deny(err, "issuer is not one directory name");
        if (ASN1_STRING_length(info->serial) > 20)
                return ac_deny(err, "serial number longer than 20 octets");
        if (cred_time_to_unix(info->validity->not_before, &f->not_before) < 0 ||
            cred_time_to_unix(info->validity->not_after, &f->not_after) < 0 ||
            f->not_after < f->not_before)
                return ac_deny(err, "invalid validity period");
        r = parse_attributes(info->attributes, f, err);
        if (r < 0)
                return r;
        return parse_extensions(info->extensions, host_fqdn, f, err);
}

/* --- trust -------------------------------------------------------------------------------- */

static int check_holder(const GX_AC *ac, X509 *eec, struct gx_error *err)
{
        const GX_AC_ISSUER_SERIAL *id = ac->info->holder->base_id;
        const X509_NAME *dn = single_dirname(id->issuer);
        const ASN1_BIT_STRING *issuer_uid = NULL;

        if (ASN1_INTEGER_cmp(id->serial, X509_get0_serialNumber(eec)) != 0)
                return ac_deny(err, "issued for another certificate (serial differs)");
        /* RFC 3281 names the EEC's issuer; VOMS' default (old) format its subject. */
        if (X509_NAME_cmp(dn, X509_get_issuer_name(eec)) != 0 &&
            X509_NAME_cmp(dn, X509_get_subject_name(eec)) != 0)
                return ac_deny(err, "issued for another certificate (holder name differs)");
        X509_get0_uids(eec, &issuer_uid, NULL);
        if ((id->uid == NULL) != (issuer_uid == NULL) ||
            (id->uid && ASN1_STRING_cmp(id->uid, issuer_uid) != 0))
                return ac_deny(err, "issued for another certificate (issuer UID differs)");
        return 0;
}

static int check_time(const struct ac_facts *f, int64_t now, struct gx_error *err)
{
        if (now + VOMS_CLOCK_SKEW < f->not_before)
                return cred_deny(err, "VOMS attributes not yet valid",
                                 "VOMS AC: not valid before %lld (now %lld)",
                                 (long long)f->not_before, (long long)now);
        if (now - VOMS_CLOCK_SKEW > f->not_after)
                return cred_deny(err, "VOMS attributes expired",
                                 "VOMS AC: expired at %lld (now %lld)", (long long)f->not_after,
                                 (long long)now);
        return 0;
}

static bool akid_matches(const AUTHORITY_KEYID *akid, X509 *signer)
{
        if (akid->keyid) {
                const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(signer);
                if (skid && ASN1_OCTET_STRING_cmp(akid->keyid, skid) == 0)
                        return true;
                unsigned char md[EVP_MAX_MD_SIZE];
                unsigned int n = 0;
                return X509_pubkey_digest(signer, EVP_sha1(), md, &n) &&
                       ASN1_STRING_length(akid->keyid) == (int)n &&
                       memcmp(ASN1_STRING_get0_data(akid->keyid), md, n) == 0;
        }
        const X509_NAME *dn = akid->issuer ? single_dirname(akid->issuer) : NULL;
        return dn && akid->serial &&
               ASN1_INTEGER_cmp(akid->serial, X509_get0_serialNumber(signer)) == 0 &&
               X509_NAME_cmp(dn, X509_get_issuer_name(signer)) == 0;
}

static bool ac_signed_by(const GX_AC *ac, X509 *signer)
{
        EVP_PKEY *pk = X509_get0_pubkey(signer);
        bool ok = pk && ASN1_item_verify(ASN1_ITEM_rptr(GX_AC_INFO), ac->sig_alg, ac->signature,
                                         ac->info, pk) == 1;
        ERR_clear_error();
        return ok;
}

struct lsc_names {
        char subject[VOMS_MAX_CERTS][GX_DN_MAX];
        char issuer[VOMS_MAX_CERTS][GX_DN_MAX];
        size_t n;
};

/* One chain of a .lsc file against the AC's certificates. Each certificate takes a subject and
 * an issuer line (libvomsapi's reading); the DN-chain reading (subject, issuer, issuer's
 * issuer ...) is accepted too: for the usual single certificate both are the same two lines.
 * Further lines describe the path to the root, which the CA store checks. */
static bool lsc_chain_matches(char *const *lines, size_t m, const struct lsc_names *c)
{
        bool pairs = m >= 2 * c->n, links = m >= c->n + 1;
        for (size_t i = 0; i < c->n; i++) {
                pairs = pairs && strcmp(lines[2 * i], c->subject[i]) == 0 &&
                        strcmp(lines[2 * i + 1], c->issuer[i]) == 0;
                links = links && strcmp(lines[i], c->subject[i]) == 0 &&
                        strcmp(lines[i + 1], c->issuer[i]) == 0;
        }
        return c->n > 0 && (pairs || links);
}

/* Does vomsdir/<vo>/<host>.lsc (open as fd) describe the AC's chain? 0 yes, negative no. */
static int lsc_check(int fd, const char *path, const STACK_OF(X509) *certs,
                     struct gx_error *err)
{
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ struct lsc_names *names = calloc(1, sizeof(*names));
        size_t len = 0;
        char *lines[LSC_MAX_LINES];
        size_t m = 0;
        bool match = false;
        if (!names)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "%s", path);
        int r = gx_read_all(fd, VOMS_MAX_FILE, &buf, &len);
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, r, "%s", path);
        if (strlen(buf) != len)
                return gx_fail(err, GX_SYSTEM, 0, "%s: NUL byte in file", path);

        for (int i = 0; i < sk_X509_num(certs) && i < VOMS_MAX_CERTS; i++) {
                X509 *x = sk_X509_value(certs, i);
                if (cred_name_oneline(X509_get_subject_name(x), names->subject[i],
                                      sizeof(names->subject[i])) < 0 ||
                    cred_name_oneline(X509_get_issuer_name(x), names->issuer[i],
                                      sizeof(names->issuer[i])) < 0)
                        return ac_deny(err, "unusable name in the signer chain");
                names->n++;
        }

        char *next = buf;
        while (next && !match) {
                char *line = next;
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                line = gx_strstrip(line);
                size_t l = strlen(line);
                if (l >= 2 && line[0] == '"' && line[l - 1] == '"') {
                        line[l - 1] = '\0';
                        line++;
                }
                bool separator = strcmp(line, "------ NEXT CHAIN ------") == 0;
                if (line[0] && line[0] != '#' && !separator) {
                        if (m == LSC_MAX_LINES)
                                return gx_fail(err, GX_SYSTEM, 0, "%s: chain too long", path);
                        lines[m++] = line;
                }
                if (separator || !next) {
                        match = lsc_chain_matches(lines, m, names);
                        m = 0;
                }
        }
        if (!match)
                return ac_deny(err, "signer chain does not match %s", path);
        return 0;
}

/* The legacy layout: the server's certificate as a PEM file in vomsdir/<vo>/ or vomsdir/,
 * found by its name and a signature check. 1 found, 0 not found, negative on error. */
static int signer_from_dir(const char *dir, const GX_AC *ac, const struct ac_facts *f,
                           X509 **ret, struct gx_error *err)
{
        int dfd = gx_open_trusted_dir(dir, err);
        if (dfd < 0)
                return dfd;
        DIR *d = fdopendir(dfd);
        if (!d) {
                int e = errno;
                close(dfd);
                return gx_fail(err, GX_SYSTEM, e, "%s", dir);
        }
        int r = 0;
        struct dirent *de;
        while (r == 0 && (de = readdir(d))) {
                size_t nl = strlen(de->d_name);
                if (de->d_name[0] == '.' || de->d_type == DT_DIR ||
                    (nl > 4 && strcmp(de->d_name + nl - 4, ".lsc") == 0))
                        continue;
                char path[PATH_MAX];
                if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
                        continue;
                _cleanup_close_ int fd = gx_open_trusted(path, O_RDONLY | O_NONBLOCK, err);
                if (fd == -ENOENT) /* removed meanwhile, or a dangling link */
                        continue;
                if (fd < 0) {
                        r = fd;
                        break;
                }
                struct stat st;
                if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                _cleanup_free_ char *buf = NULL;
                size_t len = 0;
                if (gx_read_all(fd, VOMS_MAX_FILE, &buf, &len) < 0)
                        continue;
                BIO *bio = BIO_new_mem_buf(buf, (int)len);
                X509 *x = NULL;
                for (int i = 0; bio && r == 0 && i < VOMS_MAX_SERVER_CERTS &&
                                (x = PEM_read_bio_X509(bio, NULL, NULL, NULL));
                     i++) {
                        if (X509_NAME_cmp(X509_get_subject_name(x), f->issuer) == 0 &&
                            ac_signed_by(ac, x)) {
                                *ret = TAKE_PTR(x);
                                r = 1;
                        }
                        X509_free(x);
                }
                BIO_free(bio);
                ERR_clear_error();
        }
        closedir(d);
        return r;
}

/* Find the AC's signer: through vomsdir/<vo>/<host>.lsc and the chain in the AC, else a
 * certificate file in vomsdir. *ret_chain gets the untrusted rest of the chain (may be NULL). */
static int find_signer(const GX_AC *ac, const struct ac_facts *f, const char *vomsdir,
                       X509 **ret_signer, STACK_OF(X509) **ret_chain, struct gx_error *err)
{
        char path[PATH_MAX];
        int r;

        if (f->certs) {
                if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s.lsc", vomsdir, f->vo,
                                     f->host) >= sizeof(path))
                        return gx_fail(err, GX_SYSTEM, ENAMETOOLONG, "vomsdir %s", vomsdir);
                struct gx_error e = {};
                int fd = gx_open_trusted(path, O_RDONLY | O_NONBLOCK, &e);
                if (fd >= 0) {
                        r = lsc_check(fd, path, f->certs->certs, err);
                        close(fd);
                        if (r < 0)
                                return r;
                        STACK_OF(X509) *rest = sk_X509_dup(f->certs->certs);
                        if (!rest)
                                return gx_fail(err, GX_SYSTEM, ENOMEM, "VOMS");
                        X509 *signer = sk_X509_shift(rest);
                        X509_up_ref(signer);
                        *ret_signer = signer;
                        *ret_chain = rest;
                        return 0;
                }
                if (fd != -ENOENT) {
                        *err = e;
                        return fd;
                }
        }

        if ((size_t)snprintf(path, sizeof(path), "%s/%s", vomsdir, f->vo) >= sizeof(path))
                return gx_fail(err, GX_SYSTEM, ENAMETOOLONG, "vomsdir %s", vomsdir);
        struct gx_error e = {};
        r = signer_from_dir(path, ac, f, ret_signer, &e);
        if (r == -ENOENT)
                r = 0;
        else if (r < 0) {
                *err = e;
                return r;
        }
        if (r == 0)
                r = signer_from_dir(vomsdir, ac, f, ret_signer, err);
        if (r < 0)
                return r;
        if (r == 0) {
                char esc[300];
                gx_escape(esc, sizeof(esc), f->host);
                return ac_deny(err, "no .lsc or certificate for VOMS server %s of VO %s", esc,
                               f->vo);
        }
        /* The chain in the AC, if any, may still help to reach a trusted CA. */
        *ret_chain = f->certs ? sk_X509_dup(f->certs->certs) : NULL;
        if (f->certs && !*ret_chain) {
                X509_free(TAKE_PTR(*ret_signer));
                return gx_fail(err, GX_SYSTEM, ENOMEM, "VOMS");
        }
        return 0;
}

static void note_vo(struct cred_trust_use *use, const char *vo)
{
        if (!use)
                return;
        for (size_t i = 0; i < use->n_vos; i++)
                if (strcmp(use->vos[i], vo) == 0)
                        return;
        if (use->n_vos < CRED_TRUST_MAX_VOS)
                gx_strlcpy(use->vos[use->n_vos++], vo, sizeof(use->vos[0]));
        else
                use->incomplete = true;
}

static int check_signer(const GX_AC *ac, const struct ac_facts *f, const struct voms_trust *t,
                        struct gx_error *err)
{
        X509 *signer = NULL;
        STACK_OF(X509) *chain = NULL;
        X509_STORE_CTX *ctx = NULL;
        char esc[300];
        int r = find_signer(ac, f, t->policy->vomsdir, &signer, &chain, err);
        if (r < 0)
                return r;
        note_vo(t->use, f->vo);

        if (X509_NAME_cmp(f->issuer, X509_get_subject_name(signer)) != 0) {
                r = ac_deny(err, "issuer name is not the signer's subject");
                goto out;
        }
        if (!akid_matches(f->akid, signer)) {
                r = ac_deny(err, "authority key identifier does not match the signer");
                goto out;
        }
        if (!ac_signed_by(ac, signer)) {
                r = ac_deny(err, "signature verification failed");
                goto out;
        }
        ctx = X509_STORE_CTX_new();
        if (!ctx || cred_store_ctx_init(ctx, t->store, signer, chain, t->policy, false) < 0) {
                r = gx_fail(err, GX_SYSTEM, ENOMEM, "VOMS");
                goto out;
        }
        if (X509_verify_cert(ctx) != 1) {
                int e = X509_STORE_CTX_get_error(ctx);
                char *s = X509_NAME_oneline(X509_get_subject_name(signer), NULL, 0);
                gx_escape(esc, sizeof(esc), s ? s : "?");
                OPENSSL_free(s);
                r = ac_deny(err, "VOMS server certificate %s: %s", esc,
                            X509_verify_cert_error_string(e));
                goto out;
        }
        r = 0;
out:
        X509_STORE_CTX_free(ctx);
        sk_X509_free(chain);
        X509_free(signer);
        ERR_clear_error();
        return r;
}

/* --- entry points ------------------------------------------------------------------------- */

/* trust NULL: structural checks only. */
static int acs_check(const unsigned char *der, size_t len, const char *host_fqdn,
                     const struct voms_trust *trust, struct gx_identity *id,
                     struct gx_error *err)
{
        GX_AC_SEQ *seq = d2i_exact(ASN1_ITEM_rptr(GX_AC_SEQ), der, len);
        if (!seq)
                return ac_deny(err, "undecodable attribute certificate");
        int n = sk_GX_AC_num(seq->acs), r = 0;
        if (n < 1 || n > VOMS_MAX_ACS)
                r = ac_deny(err, "%d attribute certificates", n);
        struct ac_facts *f = calloc(1, sizeof(*f));
        if (!f && r == 0)
                r = gx_fail(err, GX_SYSTEM, ENOMEM, "VOMS");
        for (int i = 0; i < n && r == 0; i++) {
                const GX_AC *ac = sk_GX_AC_value(seq->acs, i);
                *f = (struct ac_facts){};
                r = ac_parse(ac, host_fqdn, f, err);
                if (r == 0 && trust) {
                        r = check_time(f, trust->policy->now, err);
                        if (r == 0)
                                r = check_holder(ac, trust->eec, err);
                        if (r == 0)
                                r = check_signer(ac, f, trust, err);
                }
                if (r == 0 && id->n_fqans + f->n_fqans > GX_MAX_FQANS)
                        r = ac_deny(err, "more than %d FQANs", GX_MAX_FQANS);
                if (r == 0) {
                        memcpy(id->fqans[id->n_fqans], f->fqans, f->n_fqans * sizeof(f->fqans[0]));
                        id->n_fqans += f->n_fqans;
                        if (f->not_after < id->not_after)
                                id->not_after = f->not_after;
                }
                ac_facts_free(f);
        }
        free(f);
        ASN1_item_free((ASN1_VALUE *)seq, ASN1_ITEM_rptr(GX_AC_SEQ));
        ERR_clear_error();
        return r;
}

int voms_verify_chain(STACK_OF(X509) *chain, int eec_index, const struct voms_trust *trust,
                      struct gx_identity *id, struct gx_error *err)
{
        ASN1_OBJECT *oid = OBJ_txt2obj(OID_VOMS_ACSEQ, 1);
        int r = 0;
        if (!oid)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "VOMS");
        for (int i = 0; i < eec_index && i < sk_X509_num(chain); i++) {
                X509 *x = sk_X509_value(chain, i);
                int idx = X509_get_ext_by_OBJ(x, oid, -1);
                if (idx < 0)
                        continue;
                if (X509_get_ext_by_OBJ(x, oid, idx) >= 0) {
                        r = ac_deny(err, "more than one AC extension in the proxy at depth %d", i);
                        break;
                }
                const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(X509_get_ext(x, idx));
                r = acs_check(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v),
                              trust->policy->host_fqdn, trust, id, err);
                if (r == 0)
                        r = 1;
                break;
        }
        ASN1_OBJECT_free(oid);
        return r;
}

int cred_voms_parse_unverified(const uint8_t *der, size_t len, const char *host_fqdn,
                               struct gx_identity *ret, struct gx_error *err)
{
        struct gx_identity *id = calloc(1, sizeof(*id));
        if (!id)
                return gx_fail(err, GX_SYSTEM, ENOMEM, "VOMS");
        ERR_clear_error();
        id->not_after = INT64_MAX;
        int r = acs_check(der, len, host_fqdn, NULL, id, err);
        if (r == 0) {
                ret->n_fqans = id->n_fqans;
                memcpy(ret->fqans, id->fqans, sizeof(ret->fqans));
        }
        free(id);
        return r;
}
