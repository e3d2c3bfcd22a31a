/* Internal to src/sip: the front's state and one call, shared by sip_front.c (the
 * agent and its events) and sip_call.c (a call's life). Home thread: the API loop. */
#ifndef TSR_SIP_INTERNAL_H
#define TSR_SIP_INTERNAL_H

struct tsr_sip_front;
struct sip_call;
struct sip_lobby;

/* Sofia-SIP hands these back in its callbacks instead of void pointers. */
#define SU_ROOT_MAGIC_T struct tsr_sip_front
#define NUA_MAGIC_T struct tsr_sip_front
#define NUA_HMAGIC_T struct sip_call

#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_glib.h>

#include <tessera/front.h>
#include <tessera/sip_front.h>
#include <tessera/sip_message.h>

/* PIN lobbies open at once: per caller address, and in all. */
#define TSR_SIP_LOBBIES_PER_ADDRESS 8
#define TSR_SIP_LOBBIES_MAX 200

struct tsr_sip_front {
    struct tsr_conference_registry *reg;
    GMainContext *ctx;
    su_root_t *root;
    nua_t *nua;
    GPtrArray *calls; /* struct sip_call*, owned (freed when their dialog ends) */
    bool shutdown_done;
    char *url;     /* what nua listens on */
    char *tls_url; /* sips: listener, NULL without TLS */
    uint16_t tls_port;
    char *tls_dir; /* agent.pem + cafile.pem for Sofia's TLS (sip_tls.c), or NULL */
    struct tsr_gauge *calls_gauge;
    struct tsr_counter *pin_right, *pin_wrong, *pin_hangups, *dtmf_errors, *fast_updates;
    char *from_host;                    /* the host part of our From in calls we place */
    enum tsr_sdp_offer_srtp offer_srtp; /* SDES in the PIN lobby's own offers */
};

/* One INVITE dialog. Owned by front->calls; its nua handle is bound to it. Its
 * participant is the front session's while it is in the conference. */
struct sip_call {
    struct tsr_sip_front *front;
    nua_handle_t *nh; /* a reference (released when the call is freed) */
    char alias[TSR_CONFERENCE_ALIAS_MAX + 1];
    char display_name[TSR_CONFERENCE_NAME_MAX + 1];
    struct tsr_front_session *session; /* ref held; NULL before the join and after leaving */
    struct tsr_conference_call *join;  /* the join while it is on a net loop */
    struct tsr_conference_call *reneg; /* a re-offer (re-INVITE, UPDATE) on a net loop */
    nua_saved_event_t update_event[1]; /* the UPDATE that reneg answers, if update_saved */
    bool update_saved;
    char *local_sdp; /* our answer, repeated to a re-INVITE */
    /* An INVITE without SDP: our offer went in the 200 and the caller's answer
     * comes in its ACK (RFC 3261 §13.2.1); reneg then applies it. */
    bool awaiting_ack;
    /* Our re-INVITE after a PIN carries our offer (the INVITE had none): the
     * caller's answer comes in its 200. */
    bool reinvite_offer;
    char *contact; /* our Contact for a call over TLS (see sip_tls.c), else NULL */
    bool answered; /* a final response went out */
    bool bye_sent;
    /* PIN entry (sip_lobby.c): the call is answered but not a participant yet. */
    struct sip_lobby *lobby; /* NULL when not in the lobby */
    char *offer;             /* the caller's offer, joined with once the PIN is right */
    char client_address[64]; /* where the INVITE came from: PIN guesses are limited per address */
    uint64_t sdp_session_id; /* non-zero: our o= line since the lobby answered */
    unsigned sdp_version;
    unsigned pin_failures;
    /* Dial-out (sip_dialout.c): we sent the INVITE, without SDP; the callee's offer
     * comes in its 200 and our answer goes in the ACK. */
    bool outbound;
    char participant_id[37]; /* what the callee joins as (the dial's answer) */
    char by[37];             /* the host who dialled */
    enum tsr_role role;
    char *uri;                /* what was dialled */
    GSource *no_answer_timer; /* the wait for a final response (ref held) */
    const char *result;       /* the dial's outcome once counted ("answered", …) */
};

/* sip_call.c */
/* A new INVITE (nh not bound yet): read it, answer it or start the join. */
void tsr_sip_call_invite(struct tsr_sip_front *f, nua_handle_t *nh, const sip_t *sip);
/* A re-INVITE on an established call. */
void tsr_sip_call_reinvite(struct sip_call *c, const sip_t *sip);
/* An UPDATE (RFC 3311) on an established call: a re-offer, or a session refresh. */
void tsr_sip_call_update(struct sip_call *c, const sip_t *sip);
/* The caller hung up (BYE) or gave up (CANCEL): the participant leaves. */
void tsr_sip_call_hangup(struct sip_call *c, const char *why);
/* The dialog is over (nua_callstate_terminated): forget the call (frees it). */
void tsr_sip_call_terminated(struct sip_call *c);
/* The front stops: the participant leaves (SHUTDOWN) and the caller gets a BYE. */
void tsr_sip_call_shutdown(struct sip_call *c);
/* Joins c's conference with its offer and `pin` (NULL: none). */
void tsr_sip_call_join(struct sip_call *c, const char *pin);
/* A BYE with a Reason header (once). */
void tsr_sip_call_bye(struct sip_call *c, unsigned cause, const char *text);
/* The ACK of our 200 (nua_i_ack): an INVITE without SDP gets its answer here. */
void tsr_sip_call_ack(struct sip_call *c, const sip_t *sip);
/* The 200 to our re-INVITE that carried our offer (c->reinvite_offer): its
 * answer goes to media; none or an unusable one ends the call. */
void tsr_sip_call_reinvite_answer(struct sip_call *c, const sip_t *sip);
/* Our offer's answer (in the ACK or a 200) failed: counted under `code`, the
 * participant (if any) leaves, the lobby closes, a BYE with the Reason. */
void tsr_sip_call_answer_failed(struct sip_call *c, unsigned status, const char *code,
                                const char *text);
/* An INFO on an established call (dtmf-relay keys in the lobby); answers it. */
void tsr_sip_call_info(struct sip_call *c, const sip_t *sip);
/* Frees c (GPtrArray free function): the join is cancelled, the handle destroyed. */
void tsr_sip_call_free(gpointer data);

/* The Contact tag of c's answers and requests: its own for calls over TLS. */
#define TSR_SIP_CONTACT(c) TAG_IF((c)->contact, SIPTAG_CONTACT_STR((c)->contact))

/* sip_tls.c */
/* A `sip:` Contact with transport=tls for a call whose INVITE came over TLS to
 * that request's host and port, else tls_port (NULL for other transports): Sofia would put its
 * sips: listener URL there, and callers that do not speak sips: (baresip 1.0
 * fails the call with ENOSYS) could not send their ACK and BYE. */
char *tsr_sip_tls_contact(const sip_t *sip, uint16_t tls_port);
/* A private directory holding certificate and private_key the way Sofia-SIP's TLS
 * transport reads them. Returns 0, TSR_ERR_INVALID (a file unreadable or not PEM;
 * logged) or TSR_ERR_IO. */
int tsr_sip_tls_dir_new(const char *certificate, const char *private_key, char **out);
/* Removes the directory and frees its path; accepts NULL. */
void tsr_sip_tls_dir_free(char *dir);

/* sip_dialout.c */
/* The dialler the front registers with the conference core. */
extern const struct tsr_conference_dialler tsr_sip_dialler;
/* A response to an INVITE we sent (outbound, no final response yet). */
void tsr_sip_dialout_response(struct sip_call *c, int status, const char *phrase, const sip_t *sip);
/* The join with the callee's offer finished: the answer goes in the ACK, or the
 * call is ACKed and hung up with the refusal as its Reason. */
void tsr_sip_dialout_joined(struct sip_call *c, struct tsr_conference_result *res);
/* An outbound call ends (its dialog terminated): counted and reported if it was not. */
void tsr_sip_dialout_ended(struct sip_call *c);

/* sip_lobby.c */
/* Answers the INVITE 200 with a receive-only audio section for DTMF and holds the
 * call until '#' ends a PIN. Returns 0 (answered), or an error with *why. */
int tsr_sip_lobby_open(struct sip_call *c, const char *offer, size_t len, const char **why);
/* A key from the caller (RFC 4733 or INFO): '#' submits the PIN. */
void tsr_sip_lobby_key(struct sip_call *c, char key);
/* The join with the entered PIN finished: in (re-INVITE with the answer), or
 * another try, or a BYE after three wrong PINs. */
void tsr_sip_lobby_join_done(struct sip_call *c, struct tsr_conference_result *res);
/* An INVITE without SDP to a PIN conference: the 200 carries the lobby's own
 * offer (audio on the lobby's port, video send-only on the picture's) and the
 * caller's answer is due in the ACK. Returns 0 (answered), or an error with *why. */
int tsr_sip_lobby_offer(struct sip_call *c, const char **why);
/* The ACK's answer to the lobby's offer (len bytes): the lobby starts from it as
 * from an offer; an unusable one ends the call (tsr_sip_call_answer_failed). */
void tsr_sip_lobby_answer(struct sip_call *c, const char *answer, size_t len);
/* The caller refused the re-INVITE that carried the join's answer: the media
 * cannot be what was negotiated, so the participant leaves and the call ends. */
void tsr_sip_call_reinvite_failed(struct sip_call *c, int status, const char *phrase);
/* Closes the lobby's socket (idempotent). */
void tsr_sip_lobby_close(struct sip_call *c);

#endif
