/*
 * fb_sha256.c - SHA-256 per FIPS 180-4 section 6.2, HMAC per RFC 2104.
 */
#include "fb_sha256.h"

#include <string.h>

static const uint32_t K[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u,
    0xab1c5ed5u, 0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu,
    0x9bdc06a7u, 0xc19bf174u, 0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu,
    0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau, 0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u,
    0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu,
    0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u, 0xa2bfe8a1u, 0xa81a664bu,
    0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u, 0x19a4c116u,
    0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u,
    0xc67178f2u};

static uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32u - n)); }

static void compress(uint32_t state[8], const uint8_t block[64])
{
    uint32_t w[64];
    uint32_t a, b, c, d, e, f, g, h;
    unsigned t;
    for (t = 0; t < 16u; t++) {
        w[t] = ((uint32_t)block[4u * t] << 24) | ((uint32_t)block[4u * t + 1u] << 16) |
               ((uint32_t)block[4u * t + 2u] << 8) | (uint32_t)block[4u * t + 3u];
    }
    for (t = 16; t < 64u; t++) {
        uint32_t s0 = rotr(w[t - 15u], 7) ^ rotr(w[t - 15u], 18) ^ (w[t - 15u] >> 3);
        uint32_t s1 = rotr(w[t - 2u], 17) ^ rotr(w[t - 2u], 19) ^ (w[t - 2u] >> 10);
        w[t] = w[t - 16u] + s0 + w[t - 7u] + s1;
    }
    a = state[0];
    b = state[1];
    c = state[2];
    d = state[3];
    e = state[4];
    f = state[5];
    g = state[6];
    h = state[7];
    for (t = 0; t < 64u; t++) {
        uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = h + S1 + ch + K[t] + w[t];
        uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = S0 + maj;
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
}

void fb_sha256_init(fb_sha256_ctx_t *ctx)
{
    static const uint32_t H0[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                                   0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
    memcpy(ctx->state, H0, sizeof H0);
    ctx->total_len = 0;
    ctx->block_len = 0;
}

void fb_sha256_update(fb_sha256_ctx_t *ctx, const uint8_t *data, size_t len)
{
    ctx->total_len += (uint64_t)len;
    while (len > 0u) {
        size_t take = FB_SHA256_BLOCK_LEN - ctx->block_len;
        if (take > len) {
            take = len;
        }
        memcpy(ctx->block + ctx->block_len, data, take);
        ctx->block_len += (uint32_t)take;
        data += take;
        len -= take;
        if (ctx->block_len == FB_SHA256_BLOCK_LEN) {
            compress(ctx->state, ctx->block);
            ctx->block_len = 0;
        }
    }
}

void fb_sha256_final(fb_sha256_ctx_t *ctx, uint8_t digest[FB_SHA256_DIGEST_LEN])
{
    uint64_t bits = ctx->total_len * 8u;
    unsigned i;
    ctx->block[ctx->block_len++] = 0x80u;
    if (ctx->block_len > 56u) {
        memset(ctx->block + ctx->block_len, 0, FB_SHA256_BLOCK_LEN - ctx->block_len);
        compress(ctx->state, ctx->block);
        ctx->block_len = 0;
    }
    memset(ctx->block + ctx->block_len, 0, 56u - ctx->block_len);
    for (i = 0; i < 8u; i++) {
        ctx->block[63u - i] = (uint8_t)(bits >> (8u * i));
    }
    compress(ctx->state, ctx->block);
    for (i = 0; i < 8u; i++) {
        digest[4u * i] = (uint8_t)(ctx->state[i] >> 24);
        digest[4u * i + 1u] = (uint8_t)(ctx->state[i] >> 16);
        digest[4u * i + 2u] = (uint8_t)(ctx->state[i] >> 8);
        digest[4u * i + 3u] = (uint8_t)ctx->state[i];
    }
}

void fb_sha256(const uint8_t *data, size_t len, uint8_t digest[FB_SHA256_DIGEST_LEN])
{
    fb_sha256_ctx_t ctx;
    fb_sha256_init(&ctx);
    fb_sha256_update(&ctx, data, len);
    fb_sha256_final(&ctx, digest);
}

void fb_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                    uint8_t mac[FB_SHA256_DIGEST_LEN])
{
    uint8_t k0[FB_SHA256_BLOCK_LEN];
    uint8_t pad[FB_SHA256_BLOCK_LEN];
    uint8_t inner[FB_SHA256_DIGEST_LEN];
    fb_sha256_ctx_t ctx;
    unsigned i;
    memset(k0, 0, sizeof k0);
    if (key_len > FB_SHA256_BLOCK_LEN) {
        fb_sha256(key, key_len, k0);
    } else if (key_len > 0u) {
        memcpy(k0, key, key_len);
    }
    for (i = 0; i < FB_SHA256_BLOCK_LEN; i++) {
        pad[i] = (uint8_t)(k0[i] ^ 0x36u);
    }
    fb_sha256_init(&ctx);
    fb_sha256_update(&ctx, pad, sizeof pad);
    fb_sha256_update(&ctx, msg, msg_len);
    fb_sha256_final(&ctx, inner);
    for (i = 0; i < FB_SHA256_BLOCK_LEN; i++) {
        pad[i] = (uint8_t)(k0[i] ^ 0x5cu);
    }
    fb_sha256_init(&ctx);
    fb_sha256_update(&ctx, pad, sizeof pad);
    fb_sha256_update(&ctx, inner, sizeof inner);
    fb_sha256_final(&ctx, mac);
}

bool fb_ct_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
    uint8_t diff = 0;
    size_t i;
    for (i = 0; i < len; i++) {
        diff = (uint8_t)(diff | (a[i] ^ b[i]));
    }
    return diff == 0u;
}
