/*
 * fb_sha256.h - SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) for the bench protocol.
 *
 * Portable C99, no dynamic allocation, no libc beyond string.h. RAM: fb_sha256_ctx_t is
 * 108 bytes; fb_sha256_update uses about 300 bytes of stack (the 64-word message schedule).
 */
#ifndef FB_SHA256_H
#define FB_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FB_SHA256_DIGEST_LEN 32u
#define FB_SHA256_BLOCK_LEN 64u

typedef struct {
    uint32_t state[8];
    uint64_t total_len;                 /* bytes hashed so far */
    uint8_t block[FB_SHA256_BLOCK_LEN]; /* pending partial block */
    uint32_t block_len;
} fb_sha256_ctx_t;

void fb_sha256_init(fb_sha256_ctx_t *ctx);
void fb_sha256_update(fb_sha256_ctx_t *ctx, const uint8_t *data, size_t len);
void fb_sha256_final(fb_sha256_ctx_t *ctx, uint8_t digest[FB_SHA256_DIGEST_LEN]);
void fb_sha256(const uint8_t *data, size_t len, uint8_t digest[FB_SHA256_DIGEST_LEN]);

/* HMAC-SHA256 of msg under key (any key length; keys over 64 bytes are hashed first). */
void fb_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                    uint8_t mac[FB_SHA256_DIGEST_LEN]);

/* Constant-time comparison of two byte strings of length len: true when equal. */
bool fb_ct_equal(const uint8_t *a, const uint8_t *b, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* FB_SHA256_H */
