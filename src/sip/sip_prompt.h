/* Internal to src/sip: the PIN lobby's prompt tones as RTP (sip_prompt.c). */
#ifndef TSR_SIP_PROMPT_H
#define TSR_SIP_PROMPT_H

#include <stddef.h>
#include <stdint.h>

enum tsr_sip_prompt_codec {
    TSR_SIP_PROMPT_NONE,
    TSR_SIP_PROMPT_OPUS, /* 48 kHz RTP clock */
    TSR_SIP_PROMPT_PCMU, /* 8 kHz */
    TSR_SIP_PROMPT_PCMA,
    TSR_SIP_PROMPT_G722, /* 16 kHz samples, 8 kHz RTP clock (RFC 3551) */
};

struct tsr_sip_prompt;

/* Purpose: encode the prompt cadences in `codec` (not NONE). Returns 0,
 * TSR_ERR_CODEC. Ownership: *out is the caller's. */
int tsr_sip_prompt_new(struct tsr_sip_prompt **out, enum tsr_sip_prompt_codec codec);
void tsr_sip_prompt_free(struct tsr_sip_prompt **p);
/* Purpose: send with this SSRC (the one our offer named) from now on. */
void tsr_sip_prompt_set_ssrc(struct tsr_sip_prompt *p, uint32_t ssrc);
/* Purpose: play the wrong-PIN beeps next, then the prompt again. */
void tsr_sip_prompt_wrong_pin(struct tsr_sip_prompt *p);
/* Purpose: the next 20 ms RTP packet (payload type pt) into out; returns its
 * length, 0 when cap is too small. */
size_t tsr_sip_prompt_next(struct tsr_sip_prompt *p, uint8_t pt, uint8_t *out, size_t cap);

#endif
