/* ev_config.c - programming defaults, flag parsing, the rules the logic needs, and its text. */
#include "ev_config.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    size_t offset;
    uint8_t is_u16; /* else uint32_t */
} ev_field_t;

static const ev_field_t FIELDS[] = {
    {"lri-ms", offsetof(ev_config_t, lri_ms), 0},
    {"uri-ms", offsetof(ev_config_t, uri_ms), 0},
    {"av-ms", offsetof(ev_config_t, av_ms), 0},
    {"vrp-ms", offsetof(ev_config_t, vrp_ms), 0},
    {"pvarp-ms", offsetof(ev_config_t, pvarp_ms), 0},
    {"arp-ms", offsetof(ev_config_t, arp_ms), 0},
    {"pvab-ms", offsetof(ev_config_t, pvab_ms), 0},
    {"vblank-ms", offsetof(ev_config_t, vblank_ms), 0},
    {"pace-blank-ms", offsetof(ev_config_t, pace_blank_ms), 0},
    {"vsp-ms", offsetof(ev_config_t, vsp_ms), 0},
    {"a-amplitude-mv", offsetof(ev_config_t, a_amplitude_mv), 1},
    {"v-amplitude-mv", offsetof(ev_config_t, v_amplitude_mv), 1},
    {"a-width-us", offsetof(ev_config_t, a_width_us), 1},
    {"v-width-us", offsetof(ev_config_t, v_width_us), 1},
};
#define N_FIELDS (sizeof(FIELDS) / sizeof(FIELDS[0]))

const char *const ev_config_flag_names[] = {
    "mode",     "lri-ms",         "uri-ms",         "av-ms",      "vrp-ms",     "pvarp-ms",
    "arp-ms",   "pvab-ms",        "vblank-ms",      "pace-blank-ms", "vsp-ms", "a-amplitude-mv",
    "v-amplitude-mv", "a-width-us", "v-width-us",   "pace-details", NULL};

void ev_config_defaults(ev_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->mode = EV_MODE_DDD;
    cfg->lri_ms = 1000u; /* 60 ppm */
    cfg->uri_ms = 500u;  /* 120 ppm */
    cfg->av_ms = 150u;
    cfg->vrp_ms = 320u;
    cfg->pvarp_ms = 250u;
    cfg->arp_ms = 250u;
    cfg->pvab_ms = 100u;
    cfg->vblank_ms = 40u;
    cfg->pace_blank_ms = 100u;
    cfg->vsp_ms = 110u;
    cfg->a_amplitude_mv = 3500u;
    cfg->v_amplitude_mv = 3500u;
    cfg->a_width_us = 400u;
    cfg->v_width_us = 400u;
    cfg->pace_details = 1u;
}

/* Decimal digits only, no sign, at most 9 digits; returns 0 on success. */
static int parse_u32(const char *text, uint32_t *out)
{
    size_t n = strlen(text);
    if (n == 0u || n > 9u) {
        return -1;
    }
    uint32_t v = 0u;
    for (size_t i = 0; i < n; ++i) {
        if (text[i] < '0' || text[i] > '9') {
            return -1;
        }
        v = v * 10u + (uint32_t)(text[i] - '0');
    }
    *out = v;
    return 0;
}

const char *ev_config_set(ev_config_t *cfg, const char *name, const char *value)
{
    if (strcmp(name, "mode") == 0) {
        if (strcmp(value, "DDD") == 0) {
            cfg->mode = EV_MODE_DDD;
        } else if (strcmp(value, "VVI") == 0) {
            cfg->mode = EV_MODE_VVI;
        } else {
            return "mode: expected DDD or VVI";
        }
        return NULL;
    }
    if (strcmp(name, "pace-details") == 0) {
        if (strcmp(value, "on") == 0) {
            cfg->pace_details = 1u;
        } else if (strcmp(value, "off") == 0) {
            cfg->pace_details = 0u;
        } else {
            return "pace-details: expected on or off";
        }
        return NULL;
    }
    for (size_t i = 0; i < N_FIELDS; ++i) {
        if (strcmp(name, FIELDS[i].name) != 0) {
            continue;
        }
        uint32_t v;
        if (parse_u32(value, &v) != 0) {
            return "expected a whole number (decimal digits, at most 9)";
        }
        unsigned char *base = (unsigned char *)cfg + FIELDS[i].offset;
        if (FIELDS[i].is_u16) {
            if (v > 65535u) {
                return "expected at most 65535";
            }
            uint16_t v16 = (uint16_t)v;
            memcpy(base, &v16, sizeof(v16));
        } else {
            memcpy(base, &v, sizeof(v));
        }
        return NULL;
    }
    return "unknown flag";
}

const char *ev_config_check(const ev_config_t *c)
{
    if (c->lri_ms < 100u || c->lri_ms > 10000u) {
        return "lri-ms: expected 100..10000";
    }
    if (c->uri_ms < 100u || c->uri_ms > c->lri_ms) {
        return "uri-ms: expected 100..lri-ms (URL >= LRL, A-18 rule 1)";
    }
    if (c->vrp_ms < 1u || c->vrp_ms >= c->lri_ms) {
        return "vrp-ms: expected 1..lri-ms - 1 (A-18 rule 6)";
    }
    if (c->arp_ms < 1u || c->arp_ms >= c->lri_ms) {
        return "arp-ms: expected 1..lri-ms - 1 (A-18 rule 7)";
    }
    if (c->pace_blank_ms < 1u || c->pace_blank_ms >= c->lri_ms) {
        return "pace-blank-ms: expected 1..lri-ms - 1";
    }
    if (c->a_width_us < 1u || c->v_width_us < 1u) {
        return "a-width-us, v-width-us: expected at least 1";
    }
    if (c->mode == EV_MODE_DDD) {
        if (c->pvarp_ms < 1u || c->pvarp_ms >= c->lri_ms) {
            return "pvarp-ms: expected 1..lri-ms - 1 (A-18 rule 8)";
        }
        if (c->pvab_ms < 1u || c->pvab_ms > c->pvarp_ms) {
            return "pvab-ms: expected 1..pvarp-ms (PVAB lies inside PVARP, A-5)";
        }
        if (c->av_ms < 2u || c->av_ms >= c->lri_ms) {
            return "av-ms: expected 2..lri-ms - 1";
        }
        if (c->lri_ms - c->av_ms < c->pvab_ms + 50u) {
            return "lri-ms: expected lri-ms - av-ms >= pvab-ms + 50 (A-18 rule 5)";
        }
        if (c->vblank_ms < 1u || c->vblank_ms >= c->av_ms) {
            return "vblank-ms: expected 1..av-ms - 1 (A-18 rule 9)";
        }
        if (c->vsp_ms != 0u && c->vsp_ms <= c->vblank_ms) {
            return "vsp-ms: expected 0 (off) or more than vblank-ms (A-7)";
        }
    }
    return NULL;
}

size_t ev_config_format(const ev_config_t *c, char *out, size_t cap)
{
    int n = snprintf(out, cap,
                     "%s lri=%lums uri=%lums av=%lums vrp=%lums pvarp=%lums arp=%lums pvab=%lums "
                     "vblank=%lums pace_blank=%lums vsp=%lums A=%umV/%uus V=%umV/%uus "
                     "pace_details=%s",
                     c->mode == EV_MODE_DDD ? "DDD" : "VVI", (unsigned long)c->lri_ms,
                     (unsigned long)c->uri_ms, (unsigned long)c->av_ms, (unsigned long)c->vrp_ms,
                     (unsigned long)c->pvarp_ms, (unsigned long)c->arp_ms,
                     (unsigned long)c->pvab_ms, (unsigned long)c->vblank_ms,
                     (unsigned long)c->pace_blank_ms, (unsigned long)c->vsp_ms,
                     (unsigned)c->a_amplitude_mv, (unsigned)c->a_width_us,
                     (unsigned)c->v_amplitude_mv, (unsigned)c->v_width_us,
                     c->pace_details ? "on" : "off");
    if (n < 0 || cap == 0u) {
        return 0u;
    }
    return (size_t)n < cap ? (size_t)n : cap - 1u;
}
