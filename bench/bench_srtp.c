/* SRTP cost per packet for both profiles, side by side in one run, with the
 * transport's copy-before-protect (memcpy) as the reference: it shows what the
 * copy adds and which profile is cheaper on this machine.
 * Usage: bench_srtp OUT_DIR  (prints a table; writes OUT_DIR/bench_srtp.csv) */
#include <tessera/srtp.h>

#include <glib.h>
#include <stdio.h>
#include <string.h>

#define PACKETS 100000
#define PAYLOAD_BYTES 1188 /* 1200-byte RTP packet: a full video packet */

static void keys_for(enum tsr_srtp_profile profile, struct tsr_dtls_srtp_keys *k, bool swap)
{
    memset(k, 0, sizeof(*k));
    k->profile = profile;
    k->key_len = 16;
    k->salt_len = profile == TSR_SRTP_PROFILE_AEAD_AES_128_GCM ? 12 : 14;
    for (int i = 0; i < 16; i++) {
        k->local_key[i] = (uint8_t)(swap ? 0x50 + i : i);
        k->remote_key[i] = (uint8_t)(swap ? i : 0x50 + i);
    }
    for (int i = 0; i < 14; i++) {
        k->local_salt[i] = (uint8_t)(swap ? 0x90 + i : 0x20 + i);
        k->remote_salt[i] = (uint8_t)(swap ? 0x20 + i : 0x90 + i);
    }
}

static void fill_rtp(uint8_t *p, uint16_t seq)
{
    memset(p, 0xA5, 12 + PAYLOAD_BYTES);
    p[0] = 0x80;
    p[1] = 96;
    p[2] = (uint8_t)(seq >> 8);
    p[3] = (uint8_t)seq;
    p[8] = 0x12;
}

/* Returns ns per packet for protect (tx) and unprotect (rx). */
static int run_profile(enum tsr_srtp_profile profile, double *tx_ns, double *rx_ns)
{
    struct tsr_dtls_srtp_keys ka, kb;
    struct tsr_srtp *a = NULL, *b = NULL;
    keys_for(profile, &ka, false);
    keys_for(profile, &kb, true);
    if (tsr_srtp_new(&a, &ka) || tsr_srtp_new(&b, &kb))
        return -1;
    static uint8_t pkts[64][12 + PAYLOAD_BYTES + TSR_SRTP_MAX_TRAILER_BYTES];
    size_t lens[64];
    double tx = 0, rx = 0;
    for (int base = 0; base < PACKETS; base += 64) {
        for (int i = 0; i < 64; i++)
            fill_rtp(pkts[i], (uint16_t)(base + i));
        gint64 t0 = g_get_monotonic_time();
        for (int i = 0; i < 64; i++) {
            lens[i] = 12 + PAYLOAD_BYTES;
            tsr_srtp_protect_rtp(a, pkts[i], &lens[i], sizeof(pkts[i]));
        }
        gint64 t1 = g_get_monotonic_time();
        for (int i = 0; i < 64; i++)
            if (tsr_srtp_unprotect_rtp(b, pkts[i], &lens[i]) != 0)
                return -1;
        gint64 t2 = g_get_monotonic_time();
        tx += (double)(t1 - t0);
        rx += (double)(t2 - t1);
    }
    *tx_ns = tx * 1000.0 / PACKETS;
    *rx_ns = rx * 1000.0 / PACKETS;
    tsr_srtp_free(&a);
    tsr_srtp_free(&b);
    return 0;
}

/* Protect cost of a 100-byte audio packet with `n` live sessions, each packet
 * for the next session in turn (a mixer sending to n listeners): ns per packet. */
static double run_sessions(int n)
{
    struct tsr_srtp **s = g_new0(struct tsr_srtp *, n);
    for (int i = 0; i < n; i++) {
        struct tsr_dtls_srtp_keys k;
        keys_for(TSR_SRTP_PROFILE_AEAD_AES_128_GCM, &k, false);
        k.local_key[0] = (uint8_t)i, k.local_key[1] = (uint8_t)(i >> 8);
        if (tsr_srtp_new(&s[i], &k))
            return -1;
    }
    uint8_t pkt[12 + 100 + TSR_SRTP_MAX_TRAILER_BYTES];
    const int rounds = MAX(20, 50000 / n);
    gint64 t0 = g_get_monotonic_time();
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < n; i++) {
            memset(pkt, 0xA5, 112);
            pkt[0] = 0x80, pkt[1] = 111, pkt[2] = (uint8_t)(r >> 8), pkt[3] = (uint8_t)r;
            pkt[8] = (uint8_t)i, pkt[9] = (uint8_t)(i >> 8);
            size_t len = 112;
            tsr_srtp_protect_rtp(s[i], pkt, &len, sizeof pkt);
        }
    double ns = (double)(g_get_monotonic_time() - t0) * 1000.0 / ((double)rounds * n);
    for (int i = 0; i < n; i++)
        tsr_srtp_free(&s[i]);
    g_free(s);
    return ns;
}

static double copy_ns(void)
{
    static uint8_t src[1500], dst[1500];
    volatile uint8_t sink = 0;
    gint64 t0 = g_get_monotonic_time();
    for (int i = 0; i < PACKETS; i++) {
        src[i % 1500] = (uint8_t)i;
        memcpy(dst, src, 12 + PAYLOAD_BYTES);
        sink ^= dst[i % 1200];
    }
    (void)sink;
    return (double)(g_get_monotonic_time() - t0) * 1000.0 / PACKETS;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    double cm_tx, cm_rx, gcm_tx, gcm_rx, cp = copy_ns();
    if (run_profile(TSR_SRTP_PROFILE_AES128_CM_SHA1_80, &cm_tx, &cm_rx) ||
        run_profile(TSR_SRTP_PROFILE_AEAD_AES_128_GCM, &gcm_tx, &gcm_rx)) {
        fprintf(stderr, "bench_srtp: SRTP setup or unprotect failed\n");
        return 1;
    }
    printf("SRTP, %d packets of %d bytes (ns per packet)\n", PACKETS, 12 + PAYLOAD_BYTES);
    printf("%-26s %10s %10s %14s\n", "profile", "protect", "unprotect", "copy/protect");
    printf("%-26s %10.0f %10.0f %14.3f\n", "AES_CM_128_HMAC_SHA1_80", cm_tx, cm_rx, cp / cm_tx);
    printf("%-26s %10.0f %10.0f %14.3f\n", "AEAD_AES_128_GCM", gcm_tx, gcm_rx, cp / gcm_tx);
    printf("GCM/CM protect ratio %.2f, unprotect ratio %.2f; memcpy %.0f ns\n", gcm_tx / cm_tx,
           gcm_rx / cm_rx, cp);
    static const int ns_sessions[] = {1, 100, 1000};
    double sess[3];
    printf("AEAD_AES_128_GCM protect, 100-byte audio packets, sessions in turn (ns per packet)\n");
    for (int i = 0; i < 3; i++) {
        sess[i] = run_sessions(ns_sessions[i]);
        printf("%6d live sessions %10.0f\n", ns_sessions[i], sess[i]);
    }
    char *path = g_build_filename(dir, "bench_srtp.csv", NULL);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "profile,protect_ns,unprotect_ns,copy_ns\n");
        fprintf(f, "AES_CM_128_HMAC_SHA1_80,%.1f,%.1f,%.1f\n", cm_tx, cm_rx, cp);
        fprintf(f, "AEAD_AES_128_GCM,%.1f,%.1f,%.1f\n", gcm_tx, gcm_rx, cp);
        for (int i = 0; i < 3; i++)
            fprintf(f, "AEAD_AES_128_GCM audio x%d sessions,%.1f,,\n", ns_sessions[i], sess[i]);
        fclose(f);
    }
    g_free(path);
    return f ? 0 : 1;
}
