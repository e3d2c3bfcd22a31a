/* Requests waiting for a conference call: the API loop never waits for a net
 * loop, so a handler whose answer depends on one (a join with an offer, an offer,
 * an answer, a candidate) pauses its message and answers it from the call's done.
 * Home thread: the API loop. */
#include <tessera/front.h>

struct tsr_front_wait *tsr_front_wait_new(const struct tsr_front_req *r, GPtrArray *set)
{
    struct tsr_front_wait *w = g_new0(struct tsr_front_wait, 1);
    w->req = (struct tsr_front_req){.front = r->front,
                                    .api = r->api,
                                    .msg = tsr_http_pause(r->msg),
                                    .method = r->method}; /* the message's own string */
    w->set = set;
    g_ptr_array_add(set, w);
    return w;
}

struct tsr_front_wait *tsr_front_wait_resumed(void *user)
{
    struct tsr_front_wait *w = user;
    w->call = NULL; /* the conference frees it once done returns */
    return w;
}

void tsr_front_wait_done(struct tsr_front_wait *w)
{
    g_ptr_array_remove_fast(w->set, w);
    tsr_http_resume(&w->req.msg);
    if (w->data_free)
        w->data_free(w->data);
    g_free(w);
}

void tsr_front_wait_cancel_all(GPtrArray *set, const struct tsr_front_error *e)
{
    while (set->len) {
        struct tsr_front_wait *w = set->pdata[0];
        tsr_conference_call_cancel(&w->call);
        tsr_front_reply_error(w->req.front, w->req.msg, e);
        tsr_front_wait_done(w);
    }
}

void tsr_front_wait_shutdown(GPtrArray **set)
{
    struct tsr_front_error e = {
        .status = 503, .code = "shutting_down", .text = "the server is shutting down"};
    tsr_front_wait_cancel_all(*set, &e);
    g_ptr_array_free(*set, TRUE);
    *set = NULL;
}
