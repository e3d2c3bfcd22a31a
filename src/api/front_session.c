/* Front sessions: the refcounted object a front joins a participant with. The
 * conference core holds it (struct tsr_participant_holder) from the join until the
 * participant leaves and tells it when that happens, so a front neither watches
 * the event bus for its own participant nor refreshes tokens it never uses: a
 * session says LEASE (the token keeps the participant) or BOUND (the front's
 * connection does). The last unref frees, running the front's data destructor
 * (baresip's mem_deref idea: unref returns NULL). Home thread: the API loop. */
#include <tessera/front.h>

struct tsr_front_session {
    struct tsr_participant_holder holder; /* first: the core sees this */
    unsigned ref;
    const struct tsr_front_desc *front;
    struct tsr_participant *p; /* borrowed between joined and left */
    tsr_front_session_left_fn on_left;
    void *on_left_user;
    void *data;
    GDestroyNotify data_free;
};

static void holder_ref(struct tsr_participant_holder *h)
{
    tsr_front_session_ref((struct tsr_front_session *)h);
}

static void holder_unref(struct tsr_participant_holder *h)
{
    tsr_front_session_unref((struct tsr_front_session *)h);
}

static void holder_joined(struct tsr_participant_holder *h, struct tsr_participant *p)
{
    ((struct tsr_front_session *)h)->p = p;
}

static void holder_left(struct tsr_participant_holder *h, struct tsr_participant *p,
                        enum tsr_leave_reason reason)
{
    struct tsr_front_session *s = (struct tsr_front_session *)h;
    (void)p;
    s->p = NULL;
    if (s->on_left)
        s->on_left(s, reason, s->on_left_user);
}

static const struct tsr_participant_holder_ops session_ops = {
    .ref = holder_ref, .unref = holder_unref, .joined = holder_joined, .left = holder_left};

struct tsr_front_session *tsr_front_session_new(const struct tsr_front_desc *d,
                                                enum tsr_participant_liveness liveness)
{
    struct tsr_front_session *s = g_new0(struct tsr_front_session, 1);
    s->holder.ops = &session_ops;
    s->holder.liveness = liveness;
    s->ref = 1;
    s->front = d;
    return s;
}

struct tsr_front_session *tsr_front_session_ref(struct tsr_front_session *s)
{
    s->ref++;
    return s;
}

struct tsr_front_session *tsr_front_session_unref(struct tsr_front_session *s)
{
    if (!s || --s->ref > 0)
        return NULL;
    if (s->data_free)
        s->data_free(s->data);
    g_free(s);
    return NULL;
}

struct tsr_participant_holder *tsr_front_session_holder(struct tsr_front_session *s)
{
    return &s->holder;
}

struct tsr_participant *tsr_front_session_participant(const struct tsr_front_session *s)
{
    return s->p;
}

void tsr_front_session_on_left(struct tsr_front_session *s, tsr_front_session_left_fn fn,
                               void *user)
{
    s->on_left = fn;
    s->on_left_user = user;
}

void tsr_front_session_set_data(struct tsr_front_session *s, void *data, GDestroyNotify data_free)
{
    if (s->data_free)
        s->data_free(s->data);
    s->data = data;
    s->data_free = data_free;
}

void *tsr_front_session_data(const struct tsr_front_session *s)
{
    return s->data;
}

void tsr_front_session_leave(struct tsr_front_session *s, enum tsr_leave_reason reason)
{
    if (s->p)
        tsr_participant_leave(s->p, reason); /* holder_left clears s->p */
}

struct tsr_front_session *tsr_front_session_of(const struct tsr_participant *p)
{
    struct tsr_participant_holder *h = tsr_participant_holder(p);
    return h && h->ops == &session_ops ? (struct tsr_front_session *)h : NULL;
}

const struct tsr_front_desc *tsr_front_session_front(const struct tsr_front_session *s)
{
    return s->front;
}
