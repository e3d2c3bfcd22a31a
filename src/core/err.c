/* Error strings for TSR_ERR_* codes and negative errno values. */
#include <tessera/err.h>

#include <errno.h>
#include <glib.h>

struct err_row {
    int code;
    const char *name;
    const char *text;
};

static const struct err_row err_rows[] = {
    {TSR_ERR_INVALID, "TSR_ERR_INVALID", "invalid input"},
    {TSR_ERR_TRUNCATED, "TSR_ERR_TRUNCATED", "input truncated"},
    {TSR_ERR_UNSUPPORTED, "TSR_ERR_UNSUPPORTED", "not supported"},
    {TSR_ERR_NOT_FOUND, "TSR_ERR_NOT_FOUND", "not found"},
    {TSR_ERR_CONFIG, "TSR_ERR_CONFIG", "configuration rejected"},
    {TSR_ERR_CODEC, "TSR_ERR_CODEC", "codec failure"},
    {TSR_ERR_HW_UNAVAILABLE, "TSR_ERR_HW_UNAVAILABLE", "hardware acceleration unavailable"},
    {TSR_ERR_STATE, "TSR_ERR_STATE", "operation not valid in the current state"},
    {TSR_ERR_AGAIN, "TSR_ERR_AGAIN", "try again later"},
    {TSR_ERR_FULL, "TSR_ERR_FULL", "capacity reached"},
    {TSR_ERR_AUTH, "TSR_ERR_AUTH", "authentication failed"},
    {TSR_ERR_CRYPTO, "TSR_ERR_CRYPTO", "DTLS or SRTP failure"},
    {TSR_ERR_PROTOCOL, "TSR_ERR_PROTOCOL", "protocol violation by peer"},
    {TSR_ERR_TIMEOUT, "TSR_ERR_TIMEOUT", "timed out"},
    {TSR_ERR_IO, "TSR_ERR_IO", "I/O error"},
};

static const struct err_row *err_find(int err)
{
    for (size_t i = 0; i < G_N_ELEMENTS(err_rows); i++) {
        if (err_rows[i].code == err)
            return &err_rows[i];
    }
    return NULL;
}

/* errno values fit well inside (-4096, 0); anything else is not an errno. */
static int is_errno(int err)
{
    return err < 0 && err > -4096;
}

const char *tsr_strerror(int err)
{
    if (err == 0)
        return "success";
    const struct err_row *row = err_find(err);
    if (row)
        return row->text;
    if (is_errno(err))
        return g_strerror(-err); /* thread-safe, interned */
    return "unknown error";
}

const char *tsr_strerror_name(int err)
{
    if (err == 0)
        return "OK";
    const struct err_row *row = err_find(err);
    if (row)
        return row->name;
    switch (err) {
    case -ENOMEM: return "ENOMEM";
    case -EINVAL: return "EINVAL";
    case -ENOENT: return "ENOENT";
    case -EAGAIN: return "EAGAIN";
    case -EIO: return "EIO";
    case -EACCES: return "EACCES";
    case -ERANGE: return "ERANGE";
    case -ENOSPC: return "ENOSPC";
    default: return is_errno(err) ? "errno" : "unknown";
    }
}
