/* OpenSSL's SHA-256 without the EVP layer.
 *
 * EVP_sha256() is the recommended interface, but in OpenSSL 3 it fetches the digest from a
 * provider: the first call sets up the default provider (about 0.2 ms of every launch), and a
 * static link of it pulls every algorithm of that provider into the binary (4.4 MB, whose
 * 17 000 relocations the loader applies at every exec of glexec). The front end needs only
 * SHA-256, so it uses the low-level functions, deprecated but kept in OpenSSL 3 and the same
 * implementation underneath; everything else of OpenSSL is in glexec-verify (DESIGN.md,
 * "Process model"). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "common/sha256.h"

#include <dlfcn.h>
#include <openssl/sha.h>

#include "common/strutil.h"

void gx_sha256(const void *const *parts, const size_t *lens, size_t n, unsigned char ret[32])
{
        SHA256_CTX ctx;
        SHA256_Init(&ctx);
        for (size_t i = 0; i < n; i++)
                SHA256_Update(&ctx, parts[i], lens[i]);
        SHA256_Final(ret, &ctx);
}

void gx_sha256_hex(const void *data, size_t len, char ret[65])
{
        unsigned char md[32];
        gx_sha256(&data, &len, 1, md);
        gx_hex(md, sizeof(md), ret);
}

const char *gx_sha256_library(void)
{
        Dl_info lib, self;
        if (!dladdr((void *)SHA256_Init, &lib) || !dladdr((void *)gx_sha256, &self))
                return NULL;
        /* For the program itself dladdr() reports argv[0], which is the caller's to choose:
         * the program's own file is named otherwise (/proc/self/exe). */
        return lib.dli_fbase == self.dli_fbase ? "" : lib.dli_fname;
}
