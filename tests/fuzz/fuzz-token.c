/* WLCG token verification on arbitrary input. The first byte says what the rest is:
 *   't'  a compact token, verified against two in-memory issuers (RSA and EC);
 *   's'  "HEADER\nPAYLOAD" JSON texts, which the harness encodes and signs with the EC issuer's
 *        key, so that mutations get past the signature into the claim checks;
 *   'j'  the EC issuer's JWKS text, against a fixed good token;
 *   'i'  a token-issuers file text, looked up for a fixed issuer.
 * Keys are made on the first call (no key material is checked in); the clock is fixed so that
 * the seeds' claims stay valid. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "mapping/token.h"

#define RSA_ISS "https://issuer.example/rsa"
#define EC_ISS "https://issuer.example/ec"
#define NOW 1700000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *ec_key;
static char rsa_jwks[1024], ec_jwks[512], good_token[1024];

static char wn01[] = "https://wn01.example", compute_create[] = "compute.create";
static char *const audiences[] = {wn01, NULL}, *const scopes[] = {compute_create, NULL};
static const struct cred_token_policy policy = {
        .audiences = audiences,
        .accept_any_audience = true,
        .required_scopes = scopes,
        .clock_skew = 60,
        .now = NOW,
};

static size_t b64url(const unsigned char *in, size_t len, char *out, size_t out_size)
{
        static const char alphabet[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        size_t o = 0;
        unsigned acc = 0, bits = 0;

        for (size_t i = 0; i < len; i++) {
                acc = (acc << 8) | in[i];
                bits += 8;
                while (bits >= 6 && o + 1 < out_size) {
                        bits -= 6;
                        out[o++] = alphabet[(acc >> bits) & 63];
                }
        }
        if (bits > 0 && o + 1 < out_size)
                out[o++] = alphabet[(acc << (6 - bits)) & 63];
        out[o] = '\0';
        return o;
}

/* header.payload.signature with the EC key; returns the length or 0. */
static size_t sign_es256(const char *header, size_t header_len, const char *payload,
                         size_t payload_len, char *out, size_t out_size)
{
        size_t need = (header_len + payload_len) * 4 / 3 + 100;
        unsigned char der[80], raw[64];
        size_t der_len = sizeof(der);

        if (need > out_size)
                return 0;
        size_t n = b64url((const unsigned char *)header, header_len, out, out_size);
        out[n++] = '.';
        n += b64url((const unsigned char *)payload, payload_len, out + n, out_size - n);

        EVP_MD_CTX *md = EVP_MD_CTX_new();
        int ok = md && EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, ec_key, NULL) == 1 &&
                 EVP_DigestSign(md, der, &der_len, (const unsigned char *)out, n) == 1;
        EVP_MD_CTX_free(md);
        const unsigned char *p = der;
        ECDSA_SIG *sig = ok ? d2i_ECDSA_SIG(NULL, &p, (long)der_len) : NULL;
        if (!sig)
                abort();
        BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32);
        ECDSA_SIG_free(sig);
        out[n++] = '.';
        n += b64url(raw, sizeof(raw), out + n, out_size - n);
        return n;
}

static void setup(void)
{
        EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        BIGNUM *n = NULL;
        unsigned char buf[256], point[65];
        char n64[400], x64[64], y64[64];
        size_t point_len;

        ec_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        if (!rsa || !ec_key || EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
            BN_bn2binpad(n, buf, sizeof(buf)) != sizeof(buf) ||
            EVP_PKEY_get_octet_string_param(ec_key, OSSL_PKEY_PARAM_PUB_KEY, point,
                                            sizeof(point), &point_len) != 1 ||
            point_len != sizeof(point))
                abort();
        BN_free(n);
        EVP_PKEY_free(rsa);
        b64url(buf, sizeof(buf), n64, sizeof(n64));
        b64url(point + 1, 32, x64, sizeof(x64));
        b64url(point + 33, 32, y64, sizeof(y64));
        snprintf(rsa_jwks, sizeof(rsa_jwks),
                 "{\"keys\":[{\"kty\":\"RSA\",\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"n\":\"%s\","
                 "\"e\":\"AQAB\"}]}",
                 n64);
        snprintf(ec_jwks, sizeof(ec_jwks),
                 "{\"keys\":[{\"kty\":\"EC\",\"use\":\"sig\",\"crv\":\"P-256\",\"kid\":\"ec-1\","
                 "\"x\":\"%s\",\"y\":\"%s\"}]}",
                 x64, y64);

        static const char header[] = "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"ec-1\"}";
        char payload[512];
        snprintf(payload, sizeof(payload),
                 "{\"wlcg.ver\":\"1.0\",\"iss\":\"" EC_ISS "\",\"sub\":\"bob\","
                 "\"aud\":\"https://wn01.example\",\"exp\":%d,\"iat\":%d,"
                 "\"scope\":\"compute.create\",\"wlcg.groups\":[\"/atlas\"]}",
                 NOW + 3600, NOW - 60);
        if (!sign_es256(header, strlen(header), payload, strlen(payload), good_token,
                        sizeof(good_token)))
                abort();
}

static void verify(const char *token, size_t len, const char *jwks, size_t jwks_len)
{
        const struct cred_token_issuer issuers[] = {
                {RSA_ISS, rsa_jwks, strlen(rsa_jwks)},
                {EC_ISS, jwks, jwks_len},
        };
        static struct gx_identity id;
        struct gx_error err;

        memset(&err, 0, sizeof(err));
        (void)cred_token_verify_with(token, len, &policy, issuers, 2, &id, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static char token[4 * CRED_TOKEN_MAX_BYTES];
        struct gx_error err;
        char *path = NULL;

        if (!ec_key)
                setup();
        if (size < 1)
                return 0;
        const char *rest = (const char *)data + 1;
        size_t len = size - 1;

        switch (data[0]) {
        case 't':
                verify(rest, len, ec_jwks, strlen(ec_jwks));
                break;
        case 's': {
                const char *nl = memchr(rest, '\n', len);
                if (!nl)
                        break;
                size_t header_len = (size_t)(nl - rest);
                size_t n = sign_es256(rest, header_len, nl + 1, len - header_len - 1, token,
                                      sizeof(token));
                if (n)
                        verify(token, n, ec_jwks, strlen(ec_jwks));
                break;
        }
        case 'j':
                verify(good_token, strlen(good_token), rest, len);
                break;
        case 'i':
                memset(&err, 0, sizeof(err));
                if (cred_token_issuers_lookup(rest, len, EC_ISS, &path, &err) == 0)
                        free(path);
                break;
        }
        return 0;
}
