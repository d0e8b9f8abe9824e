/* Reference VOMS verifier built on libvomsapi (Debian voms-dev): prints the FQANs of a proxy
 * file, one per line, exactly as the AC holds them, and exits 0; exits 1 with a message on
 * stderr when libvomsapi finds no valid AC. Used by the oracle test to cross-check
 * mapping/voms.c; never part of glexec.
 *
 *   voms-oracle VOMSDIR CERTDIR PROXYFILE */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <voms/voms_apic.h>

int main(int argc, char **argv)
{
        if (argc != 4) {
                fprintf(stderr, "usage: %s VOMSDIR CERTDIR PROXYFILE\n", argv[0]);
                return 2;
        }
        FILE *f = fopen(argv[3], "re");
        if (!f) {
                perror(argv[3]);
                return 2;
        }
        X509 *leaf = PEM_read_X509(f, NULL, NULL, NULL);
        STACK_OF(X509) *chain = sk_X509_new_null();
        X509 *x;
        /* The key between the proxy certificate and its chain is skipped by PEM_read_X509. */
        while (chain && (x = PEM_read_X509(f, NULL, NULL, NULL)))
                sk_X509_push(chain, x);
        fclose(f);
        if (!leaf || !chain) {
                fprintf(stderr, "%s: no certificate\n", argv[3]);
                return 2;
        }
        /* libvomsapi expects the whole chain, leaf first, as a proxy-aware caller gets it. */
        sk_X509_unshift(chain, X509_dup(leaf));

        int error = 0, rc = 1;
        struct vomsdata *vd = VOMS_Init(argv[1], argv[2]);
        if (!vd) {
                fprintf(stderr, "VOMS_Init failed\n");
                return 2;
        }
        if (!VOMS_SetVerificationType(VERIFY_FULL, vd, &error) ||
            !VOMS_Retrieve(leaf, chain, RECURSE_CHAIN, vd, &error)) {
                char buf[512];
                fprintf(stderr, "libvomsapi: %s\n",
                        VOMS_ErrorMessage(vd, error, buf, (int)sizeof(buf)));
        } else if (!vd->data || !vd->data[0]) {
                fprintf(stderr, "libvomsapi: no AC\n");
        } else {
                for (int i = 0; vd->data[i]; i++)
                        for (int j = 0; vd->data[i]->fqan && vd->data[i]->fqan[j]; j++)
                                printf("%s\n", vd->data[i]->fqan[j]);
                rc = 0;
        }
        VOMS_Destroy(vd);
        X509_free(leaf);
        sk_X509_pop_free(chain, X509_free);
        return rc;
}
