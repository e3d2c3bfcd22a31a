/* The compositor's Vulkan backend (compositor_gpu.h).
 *
 * Per compositor: three host-visible storage buffers (the tiles' parameters, the
 * source crops of this render, the canvas), one descriptor set, one command buffer
 * and a fence. A render copies each changed tile's source crop (only the part the
 * tile shows) into the source buffer, records one dispatch of shaders/compose.comp
 * per tile, submits, waits, and copies the canvas back for the software encoder.
 *
 * Host-visible buffers keep it simple and are the right memory on integrated GPUs
 * and on CPU implementations; a discrete GPU reads them over PCIe (device-local
 * copies would save that; not measured here, no GPU machine was available).
 * Thread: the compositor's caller; the queue is shared under the context's lock. */
#include "compositor_gpu.h"
#include "vk_context.h"

#include <tessera/err.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FENCE_TIMEOUT_NS 5000000000ull /* a render takes milliseconds; 5 s means a hung device */
/* The first dispatch on a device may compile the shader (lavapipe JIT-compiles it
 * then: seconds under ASan); each compositor makes one when it is created. */
#define WARMUP_TIMEOUT_NS 60000000000ull

/* Mirrors struct Plane in shaders/compose.comp (std430, 32-bit ints). */
struct gpu_plane {
    int32_t off, stride, step;
    int32_t k, ox, oy, sw, sh;
    int32_t dw, dh;
};

/* Mirrors struct Tile in shaders/compose.comp. */
struct gpu_tile {
    int32_t mode, nv12, full_range, v_off;
    int32_t tx, ty, tw, th;
    int32_t px, py, pw, ph;
    int32_t fill[4];
    int32_t dst_off[4];
    int32_t dst_stride[4];
    struct gpu_plane luma, chroma;
};
_Static_assert(sizeof(struct gpu_tile) == 44 * sizeof(int32_t), "std430 Tile of compose.comp");

#define MAX_JOBS (TSR_LAYOUT_MAX_TILES + 1) /* the tiles and one background fill */

struct gpu_buffer {
    VkBuffer buf;
    VkDeviceMemory mem;
    uint8_t *map;
    VkDeviceSize size;
};

/* Home thread: the compositor's caller. */
struct tsr_compositor_gpu {
    struct tsr_vk_context *ctx;
    struct gpu_buffer params, src, canvas;
    VkDescriptorPool pool;
    VkDescriptorSet set;
    VkCommandPool cmd_pool;
    VkCommandBuffer cmd;
    VkFence fence;
    int w, h;
    bool nv12;
    int32_t off[3], stride[3]; /* canvas planes in the canvas buffer */
    bool fail_next;
    bool in_flight; /* a submission never finished: its objects can't be freed */
};

static size_t align4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

static void buffer_drop(struct tsr_compositor_gpu *g, struct gpu_buffer *b)
{
    const struct tsr_vk_fns *fn = &g->ctx->fn;
    if (b->buf)
        fn->vkDestroyBuffer(g->ctx->device, b->buf, NULL);
    if (b->mem)
        fn->vkFreeMemory(g->ctx->device, b->mem, NULL); /* unmaps it */
    memset(b, 0, sizeof *b);
}

/* A mapped, host-coherent storage buffer; `want` adds preferred properties. */
static VkResult buffer_make(struct tsr_compositor_gpu *g, struct gpu_buffer *b, VkDeviceSize size,
                            VkMemoryPropertyFlags want)
{
    const struct tsr_vk_fns *fn = &g->ctx->fn;
    VkDevice dev = g->ctx->device;
    VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                             .size = size,
                             .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                             .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VkResult r = fn->vkCreateBuffer(dev, &bi, NULL, &b->buf);
    if (r != VK_SUCCESS)
        return r;
    VkMemoryRequirements req;
    fn->vkGetBufferMemoryRequirements(dev, b->buf, &req);
    VkMemoryPropertyFlags need =
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    int type = tsr_vk_memory_type(g->ctx, req.memoryTypeBits, need, need | want);
    if (type < 0)
        return VK_ERROR_OUT_OF_DEVICE_MEMORY;
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                               .allocationSize = req.size,
                               .memoryTypeIndex = (uint32_t)type};
    void *map = NULL;
    if ((r = fn->vkAllocateMemory(dev, &ai, NULL, &b->mem)) == VK_SUCCESS &&
        (r = fn->vkBindBufferMemory(dev, b->buf, b->mem, 0)) == VK_SUCCESS &&
        (r = fn->vkMapMemory(dev, b->mem, 0, VK_WHOLE_SIZE, 0, &map)) == VK_SUCCESS) {
        b->map = map;
        b->size = size;
    }
    return r;
}

static void write_descriptors(struct tsr_compositor_gpu *g)
{
    VkDescriptorBufferInfo info[3] = {{g->params.buf, 0, VK_WHOLE_SIZE},
                                      {g->src.buf, 0, VK_WHOLE_SIZE},
                                      {g->canvas.buf, 0, VK_WHOLE_SIZE}};
    VkWriteDescriptorSet w[3];
    for (uint32_t i = 0; i < 3; i++)
        w[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                      .dstSet = g->set,
                                      .dstBinding = i,
                                      .descriptorCount = 1,
                                      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                      .pBufferInfo = &info[i]};
    g->ctx->fn.vkUpdateDescriptorSets(g->ctx->device, 3, w, 0, NULL);
}

static VkResult make_commands(struct tsr_compositor_gpu *g)
{
    const struct tsr_vk_fns *fn = &g->ctx->fn;
    VkDevice dev = g->ctx->device;
    VkDescriptorPoolSize ps = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 3};
    VkDescriptorPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                     .maxSets = 1,
                                     .poolSizeCount = 1,
                                     .pPoolSizes = &ps};
    VkResult r = fn->vkCreateDescriptorPool(dev, &pi, NULL, &g->pool);
    if (r != VK_SUCCESS)
        return r;
    VkDescriptorSetAllocateInfo si = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                      .descriptorPool = g->pool,
                                      .descriptorSetCount = 1,
                                      .pSetLayouts = &g->ctx->set_layout};
    if ((r = fn->vkAllocateDescriptorSets(dev, &si, &g->set)) != VK_SUCCESS)
        return r;
    VkCommandPoolCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                  .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                  .queueFamilyIndex = g->ctx->queue_family};
    if ((r = fn->vkCreateCommandPool(dev, &ci, NULL, &g->cmd_pool)) != VK_SUCCESS)
        return r;
    VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                      .commandPool = g->cmd_pool,
                                      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                      .commandBufferCount = 1};
    if ((r = fn->vkAllocateCommandBuffers(dev, &ai, &g->cmd)) != VK_SUCCESS)
        return r;
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    return fn->vkCreateFence(dev, &fi, NULL, &g->fence);
}

/* Canvas planes at 4-byte aligned offsets and strides: the shader writes words. */
static void canvas_layout(struct tsr_compositor_gpu *g)
{
    g->stride[0] = (int32_t)align4((size_t)g->w);
    g->stride[1] = g->stride[2] = (int32_t)align4((size_t)(g->nv12 ? g->w : g->w / 2));
    g->off[0] = 0;
    g->off[1] = g->stride[0] * g->h;
    g->off[2] = g->off[1] + (g->nv12 ? 0 : g->stride[1] * (g->h / 2));
}

static VkResult gpu_setup(struct tsr_compositor_gpu *g)
{
    canvas_layout(g);
    VkDeviceSize canvas_size = (VkDeviceSize)g->off[2] + (VkDeviceSize)g->stride[2] * (g->h / 2);
    VkResult r = buffer_make(g, &g->params, sizeof(struct gpu_tile) * MAX_JOBS, 0);
    if (r == VK_SUCCESS)
        r = buffer_make(g, &g->src, align4((size_t)g->w * g->h * 3 / 2 + 64), 0);
    if (r == VK_SUCCESS) /* read back by the CPU: cached memory reads faster */
        r = buffer_make(g, &g->canvas, canvas_size, VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
    if (r == VK_SUCCESS)
        r = make_commands(g);
    if (r == VK_SUCCESS)
        write_descriptors(g);
    return r;
}

static VkResult warm_up(struct tsr_compositor_gpu *g);

int tsr_compositor_gpu_new(struct tsr_compositor_gpu **out, int w, int h, bool nv12,
                           bool gpu_only, char *why, size_t why_size)
{
    struct tsr_compositor_gpu *g = calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    struct tsr_vk_info info;
    if (tsr_vk_context_get(&g->ctx, gpu_only, &info) != 0) {
        snprintf(why, why_size, "%s", info.reason);
        free(g);
        return TSR_ERR_HW_UNAVAILABLE;
    }
    g->w = w;
    g->h = h;
    g->nv12 = nv12;
    VkResult r = gpu_setup(g);
    if (r == VK_SUCCESS)
        r = warm_up(g);
    if (r != VK_SUCCESS) {
        snprintf(why, why_size, "cannot draw on %s (VkResult %d)", g->ctx->info.name, (int)r);
        if (r == VK_ERROR_DEVICE_LOST)
            tsr_vk_context_mark_lost(g->ctx);
        tsr_compositor_gpu_free(&g);
        return TSR_ERR_HW_UNAVAILABLE;
    }
    *out = g;
    return 0;
}

void tsr_compositor_gpu_free(struct tsr_compositor_gpu **p)
{
    if (!p || !*p)
        return;
    struct tsr_compositor_gpu *g = *p;
    *p = NULL;
    if (g->in_flight)
        return; /* the device may still use them: leaked on purpose (a hung device, rare) */
    const struct tsr_vk_fns *fn = &g->ctx->fn;
    VkDevice dev = g->ctx->device;
    if (g->fence)
        fn->vkDestroyFence(dev, g->fence, NULL);
    if (g->cmd_pool) /* frees the command buffer */
        fn->vkDestroyCommandPool(dev, g->cmd_pool, NULL);
    if (g->pool) /* frees the set */
        fn->vkDestroyDescriptorPool(dev, g->pool, NULL);
    buffer_drop(g, &g->params);
    buffer_drop(g, &g->src);
    buffer_drop(g, &g->canvas);
    tsr_vk_context_unref(&g->ctx);
    free(g);
}

const char *tsr_compositor_gpu_device(const struct tsr_compositor_gpu *g)
{
    return g->ctx->info.name;
}

void tsr_compositor_gpu_fail_next(struct tsr_compositor_gpu *g)
{
    g->fail_next = true;
}

/* Source bytes a picture job needs: its crop's luma, then U and V (or UV). */
static size_t job_src_bytes(const struct gpu_job *j)
{
    if (!j->src)
        return 0;
    struct rect crop, d;
    tsr_compositor_place(j->src, &j->tile, &crop, &d);
    struct rect cc = tsr_compositor_chroma_crop(j->src, crop);
    return align4((size_t)crop.w * crop.h) + 2 * align4(2 * (size_t)cc.w * cc.h);
}

static int grow_src(struct tsr_compositor_gpu *g, size_t need)
{
    if (need <= g->src.size)
        return 0;
    buffer_drop(g, &g->src);
    if (buffer_make(g, &g->src, align4(need + need / 4), 0) != VK_SUCCESS)
        return -ENOMEM;
    write_descriptors(g); /* no draw is in flight: each one is waited for */
    return 0;
}

static void copy_rows(uint8_t *dst, const uint8_t *src, int stride, int width, int rows)
{
    for (int y = 0; y < rows; y++)
        memcpy(dst + (size_t)y * width, src + (size_t)y * stride, (size_t)width);
}

static void set_plane(struct gpu_plane *p, size_t off, int stride, int step, int sw, int sh,
                      int dw, int dh)
{
    struct plane_plan pl = tsr_compositor_plan_plane(sw, sh, dw, dh);
    *p = (struct gpu_plane){.off = (int32_t)off,
                            .stride = stride,
                            .step = step,
                            .k = pl.k,
                            .ox = pl.ox,
                            .oy = pl.oy,
                            .sw = pl.stage ? pl.tw : sw,
                            .sh = pl.stage ? pl.th : sh,
                            .dw = dw,
                            .dh = dh};
}

/* Copies the crop of j's picture to `at` in the source buffer and describes it in
 * *t; returns the bytes used. */
static size_t upload_picture(struct tsr_compositor_gpu *g, const struct gpu_job *j, size_t at,
                             struct gpu_tile *t)
{
    const struct src_view *s = j->src;
    struct rect crop, d;
    tsr_compositor_place(s, &j->tile, &crop, &d);
    struct rect cc = tsr_compositor_chroma_crop(s, crop);
    t->mode = 1;
    t->full_range = s->full_range;
    t->px = d.x, t->py = d.y, t->pw = d.w, t->ph = d.h;
    uint8_t *base = g->src.map;
    copy_rows(base + at, s->y + (size_t)crop.y * s->ys + crop.x, s->ys, crop.w, crop.h);
    set_plane(&t->luma, at, crop.w, 1, crop.w, crop.h, d.w, d.h);
    size_t u_at = at + align4((size_t)crop.w * crop.h);
    if (!s->v) { /* NV12: one interleaved plane, V one byte after U */
        copy_rows(base + u_at, s->u + (size_t)cc.y * s->us + 2 * cc.x, s->us, 2 * cc.w, cc.h);
        set_plane(&t->chroma, u_at, 2 * cc.w, 2, cc.w, cc.h, d.w / 2, d.h / 2);
        t->v_off = (int32_t)u_at + 1;
        return u_at - at + align4(2 * (size_t)cc.w * cc.h);
    }
    size_t v_at = u_at + align4((size_t)cc.w * cc.h);
    copy_rows(base + u_at, s->u + (size_t)cc.y * s->us + cc.x, s->us, cc.w, cc.h);
    copy_rows(base + v_at, s->v + (size_t)cc.y * s->vs + cc.x, s->vs, cc.w, cc.h);
    set_plane(&t->chroma, u_at, cc.w, 1, cc.w, cc.h, d.w / 2, d.h / 2);
    t->v_off = (int32_t)v_at;
    return v_at - at + align4((size_t)cc.w * cc.h);
}

/* Fills the parameter buffer and the source buffer for every job. */
static int upload(struct tsr_compositor_gpu *g, const struct gpu_job *jobs, size_t n)
{
    size_t need = 0;
    for (size_t i = 0; i < n; i++)
        need += job_src_bytes(&jobs[i]);
    if (grow_src(g, need + 4) < 0)
        return -ENOMEM;
    struct gpu_tile *params = (struct gpu_tile *)(void *)g->params.map;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const struct gpu_job *j = &jobs[i];
        struct gpu_tile *t = &params[i];
        *t = (struct gpu_tile){.nv12 = g->nv12,
                               .tx = j->tile.x,
                               .ty = j->tile.y,
                               .tw = j->tile.w,
                               .th = j->tile.h,
                               .fill = {j->fill[0], j->fill[1], j->fill[2], 0}};
        for (int p = 0; p < 3; p++) {
            t->dst_off[p] = g->off[p];
            t->dst_stride[p] = g->stride[p];
        }
        if (j->src)
            at += upload_picture(g, j, at, t);
    }
    return 0;
}

/* Whether two tiles may write one canvas word: their rectangles widened to 8-pixel
 * columns (a chroma word of I420 spans 8 luma columns) intersect. */
static bool share_words(const struct tsr_layout_tile *a, const struct tsr_layout_tile *b)
{
    int ax0 = a->x & ~7, ax1 = (a->x + a->w + 7) & ~7;
    int bx0 = b->x & ~7, bx1 = (b->x + b->w + 7) & ~7;
    return ax0 < bx1 && bx0 < ax1 && a->y < b->y + b->h && b->y < a->y + a->h;
}

static void barrier(struct tsr_compositor_gpu *g, VkAccessFlags dst_access,
                    VkPipelineStageFlags dst_stage)
{
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                          .dstAccessMask = dst_access};
    g->ctx->fn.vkCmdPipelineBarrier(g->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, dst_stage, 0, 1,
                                    &mb, 0, NULL, 0, NULL);
}

/* One dispatch per job; tiles run concurrently unless they share canvas words. */
static VkResult record(struct tsr_compositor_gpu *g, const struct gpu_job *jobs, size_t n)
{
    const struct tsr_vk_fns *fn = &g->ctx->fn;
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    VkResult r = fn->vkBeginCommandBuffer(g->cmd, &bi);
    if (r != VK_SUCCESS)
        return r;
    fn->vkCmdBindPipeline(g->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, g->ctx->pipeline);
    fn->vkCmdBindDescriptorSets(g->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, g->ctx->pipeline_layout, 0,
                                1, &g->set, 0, NULL);
    size_t since = 0; /* first job after the last barrier */
    for (size_t i = 0; i < n; i++) {
        const struct tsr_layout_tile *t = &jobs[i].tile;
        for (size_t k = since; k < i; k++)
            if (share_words(t, &jobs[k].tile)) {
                barrier(g, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT,
                        VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT);
                since = i;
                break;
            }
        int32_t index = (int32_t)i;
        fn->vkCmdPushConstants(g->cmd, g->ctx->pipeline_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                               sizeof index, &index);
        uint32_t words = (uint32_t)(((t->x + t->w + 3) >> 2) - (t->x >> 2));
        fn->vkCmdDispatch(g->cmd, (words + 7) / 8, (uint32_t)(t->h + 7) / 8, g->nv12 ? 2 : 3);
    }
    barrier(g, VK_ACCESS_HOST_READ_BIT, VK_PIPELINE_STAGE_HOST_BIT);
    return fn->vkEndCommandBuffer(g->cmd);
}

static VkResult submit_and_wait(struct tsr_compositor_gpu *g, uint64_t timeout_ns)
{
    const struct tsr_vk_fns *fn = &g->ctx->fn;
    if (g->fail_next) {
        g->fail_next = false;
        return VK_ERROR_DEVICE_LOST;
    }
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                       .commandBufferCount = 1,
                       .pCommandBuffers = &g->cmd};
    g_mutex_lock(&g->ctx->queue_lock);
    VkResult r = fn->vkQueueSubmit(g->ctx->queue, 1, &si, g->fence);
    g_mutex_unlock(&g->ctx->queue_lock);
    if (r != VK_SUCCESS)
        return r;
    r = fn->vkWaitForFences(g->ctx->device, 1, &g->fence, VK_TRUE, timeout_ns);
    if (r == VK_TIMEOUT) { /* a hung device: treated as lost */
        g->in_flight = true;
        return VK_ERROR_DEVICE_LOST;
    }
    if (r == VK_SUCCESS)
        r = fn->vkResetFences(g->ctx->device, 1, &g->fence);
    return r;
}

static void read_back(const struct tsr_compositor_gpu *g, AVFrame *canvas)
{
    const uint8_t *m = g->canvas.map;
    for (int y = 0; y < g->h; y++)
        memcpy(canvas->data[0] + (size_t)y * canvas->linesize[0],
               m + g->off[0] + (size_t)y * g->stride[0], (size_t)g->w);
    int planes = g->nv12 ? 1 : 2, cw = g->nv12 ? g->w : g->w / 2;
    for (int p = 1; p <= planes; p++)
        for (int y = 0; y < g->h / 2; y++)
            memcpy(canvas->data[p] + (size_t)y * canvas->linesize[p],
                   m + g->off[p] + (size_t)y * g->stride[p], (size_t)cw);
}

int tsr_compositor_gpu_draw(struct tsr_compositor_gpu *g, const struct gpu_job *jobs, size_t n,
                            AVFrame *canvas, char *why, size_t why_size, bool *first)
{
    *first = true;
    if (n > MAX_JOBS)
        return -EINVAL;
    if (atomic_load(&g->ctx->lost)) {
        *first = false; /* reported by the compositor that found it */
        snprintf(why, why_size, "Vulkan device %s was lost", g->ctx->info.name);
        return TSR_ERR_HW_UNAVAILABLE;
    }
    if (n == 0) {
        read_back(g, canvas);
        return 0;
    }
    if (upload(g, jobs, n) < 0) {
        snprintf(why, why_size, "no memory for the sources on %s", g->ctx->info.name);
        return TSR_ERR_HW_UNAVAILABLE;
    }
    VkResult r = record(g, jobs, n);
    if (r == VK_SUCCESS)
        r = submit_and_wait(g, FENCE_TIMEOUT_NS);
    if (r != VK_SUCCESS) {
        snprintf(why, why_size, "Vulkan dispatch on %s failed (VkResult %d%s)", g->ctx->info.name,
                 (int)r, r == VK_ERROR_DEVICE_LOST ? ", device lost" : "");
        if (r == VK_ERROR_DEVICE_LOST)
            *first = tsr_vk_context_mark_lost(g->ctx);
        return TSR_ERR_HW_UNAVAILABLE;
    }
    read_back(g, canvas);
    return 0;
}

/* One dispatch (the canvas filled black) before the compositor is handed out: it
 * proves the device draws, and any shader compilation the driver defers to the
 * first dispatch happens here, under a long timeout, not in a conference's frame. */
static VkResult warm_up(struct tsr_compositor_gpu *g)
{
    struct gpu_job black = {.tile = {.w = g->w, .h = g->h}, .fill = {16, 128, 128}};
    if (upload(g, &black, 1) < 0)
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    VkResult r = record(g, &black, 1);
    return r == VK_SUCCESS ? submit_and_wait(g, WARMUP_TIMEOUT_NS) : r;
}
