/* Internal to src/sip: the front's state and one call, shared by sip_front.c (the
 * agent and its events) and sip_call.c (a call's life). Home thread: the API loop. */
#ifndef TSR_SIP_INTERNAL_H
#define TSR_SIP_INTERNAL_H

struct tsr_sip_front;
struct sip_call;

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

struct tsr_sip_front {
    struct tsr_conference_registry *reg;
    GMainContext *ctx;
    su_root_t *root;
    nua_t *nua;
    GPtrArray *calls; /* struct sip_call*, owned (freed when their dialog ends) */
    bool shutdown_done;
    char *url; /* what nua listens on */
    struct tsr_gauge *calls_gauge;
};

/* One INVITE dialog. Owned by front->calls; its nua handle is bound to it. Its
 * participant is the front session's while it is in the conference. */
struct sip_call {
    struct tsr_sip_front *front;
    nua_handle_t *nh;                  /* a reference (released when the call is freed) */
    char alias[TSR_CONFERENCE_ALIAS_MAX + 1];
    struct tsr_front_session *session; /* ref held; NULL before the join and after leaving */
    struct tsr_conference_call *join;  /* the join while it is on a net loop */
    struct tsr_conference_call *reneg; /* a re-INVITE's offer while it is on a net loop */
    char *local_sdp;                   /* our answer, repeated to a re-INVITE */
    bool answered;                     /* a final response went out */
    bool bye_sent;
};

/* sip_call.c */
/* A new INVITE (nh not bound yet): read it, answer it or start the join. */
void tsr_sip_call_invite(struct tsr_sip_front *f, nua_handle_t *nh, const sip_t *sip);
/* A re-INVITE on an established call. */
void tsr_sip_call_reinvite(struct sip_call *c, const sip_t *sip);
/* The caller hung up (BYE) or gave up (CANCEL): the participant leaves. */
void tsr_sip_call_hangup(struct sip_call *c, const char *why);
/* The dialog is over (nua_callstate_terminated): forget the call (frees it). */
void tsr_sip_call_terminated(struct sip_call *c);
/* The front stops: the participant leaves (SHUTDOWN) and the caller gets a BYE. */
void tsr_sip_call_shutdown(struct sip_call *c);
/* Frees c (GPtrArray free function): the join is cancelled, the handle destroyed. */
void tsr_sip_call_free(gpointer data);

#endif
