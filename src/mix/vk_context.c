/* The Vulkan context of the GPU compositor: loader (dlopen), instance, the best
 * device with a compute queue, and the compose pipeline. See vk_context.h. */
#include "vk_context.h"

#include <tessera/err.h>
#include <tessera/log.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The SPIR-V of shaders/compose.comp, compiled by glslc at build time (-mfmt=c
 * writes it as a C initializer of 32-bit words). */
static const uint32_t compose_spv[] =
#include "compose.spv.inc"
    ;

static GMutex g_lock;
static struct tsr_vk_context *g_ctx; /* the live, not lost context; holds no reference */
static bool g_probed;                /* g_info holds what the loader and devices are */
static bool g_create_failed;         /* the device or pipeline could not be made: don't retry */
static struct tsr_vk_info g_info;
static char *g_soname;

const char *tsr_vk_type_name(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
        return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
        return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
        return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
        return "cpu";
    default:
        return "other";
    }
}

static bool is_gpu(VkPhysicalDeviceType t)
{
    return t == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU || t == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU;
}

static const char *vk_result_name(VkResult r)
{
    switch (r) {
    case VK_ERROR_OUT_OF_HOST_MEMORY:
        return "out of host memory";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
        return "out of device memory";
    case VK_ERROR_INITIALIZATION_FAILED:
        return "initialization failed";
    case VK_ERROR_DEVICE_LOST:
        return "device lost";
    case VK_ERROR_INCOMPATIBLE_DRIVER:
        return "no compatible driver (ICD)";
    default:
        return "error";
    }
}

static int open_loader(struct tsr_vk_context *c, struct tsr_vk_info *info)
{
    const char *soname = g_soname ? g_soname : "libvulkan.so.1";
    c->lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!c->lib) {
        snprintf(info->reason, sizeof info->reason, "no Vulkan loader (%s)", dlerror());
        return TSR_ERR_UNSUPPORTED;
    }
    c->fn.vkGetInstanceProcAddr = (PFN_vkGetInstanceProcAddr)dlsym(c->lib, "vkGetInstanceProcAddr");
    if (c->fn.vkGetInstanceProcAddr)
        c->fn.vkCreateInstance =
            (PFN_vkCreateInstance)c->fn.vkGetInstanceProcAddr(NULL, "vkCreateInstance");
    if (!c->fn.vkCreateInstance) {
        snprintf(info->reason, sizeof info->reason, "%s has no vkCreateInstance", soname);
        return TSR_ERR_UNSUPPORTED;
    }
    info->loader = true;
    return 0;
}

static int create_instance(struct tsr_vk_context *c, struct tsr_vk_info *info)
{
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                             .pApplicationName = "tessera",
                             .apiVersion = VK_API_VERSION_1_0};
    VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                               .pApplicationInfo = &app};
    VkResult r = c->fn.vkCreateInstance(&ci, NULL, &c->instance);
    if (r != VK_SUCCESS) {
        c->instance = VK_NULL_HANDLE;
        snprintf(info->reason, sizeof info->reason, "no Vulkan instance: %s (%d)",
                 vk_result_name(r), (int)r);
        return TSR_ERR_UNSUPPORTED;
    }
#define LOAD_INSTANCE_FN(name)                                                                     \
    if (!(c->fn.name = (PFN_##name)c->fn.vkGetInstanceProcAddr(c->instance, #name))) {             \
        snprintf(info->reason, sizeof info->reason, "the loader lacks " #name);                    \
        return TSR_ERR_UNSUPPORTED;                                                                \
    }
    TSR_VK_INSTANCE_FNS(LOAD_INSTANCE_FN)
#undef LOAD_INSTANCE_FN
    return 0;
}

static int device_rank(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
        return 5;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
        return 4;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
        return 3;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
        return 2;
    default:
        return 1;
    }
}

/* The compute queue family of d, or -1. */
static int compute_family(const struct tsr_vk_context *c, VkPhysicalDevice d)
{
    VkQueueFamilyProperties q[16];
    uint32_t n = 16;
    c->fn.vkGetPhysicalDeviceQueueFamilyProperties(d, &n, q);
    for (uint32_t i = 0; i < n; i++)
        if (q[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
            return (int)i;
    return -1;
}

/* The best device with a compute queue: discrete, integrated, virtual, CPU. */
static int pick_device(struct tsr_vk_context *c, struct tsr_vk_info *info)
{
    VkPhysicalDevice devs[16];
    uint32_t n = 16;
    VkResult r = c->fn.vkEnumeratePhysicalDevices(c->instance, &n, devs);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE)
        n = 0;
    int best = -1;
    for (uint32_t i = 0; i < n; i++) {
        VkPhysicalDeviceProperties p;
        c->fn.vkGetPhysicalDeviceProperties(devs[i], &p);
        int fam = compute_family(c, devs[i]);
        if (fam < 0 || (best >= 0 && device_rank(p.deviceType) <= device_rank(info->type)))
            continue;
        best = (int)i;
        c->phys = devs[i];
        c->queue_family = (uint32_t)fam;
        info->type = p.deviceType;
        info->api_version = p.apiVersion;
        snprintf(info->name, sizeof info->name, "%s", p.deviceName);
    }
    if (best < 0) {
        snprintf(info->reason, sizeof info->reason, "no Vulkan device with a compute queue");
        return TSR_ERR_UNSUPPORTED;
    }
    info->device = true;
    return 0;
}

static int create_device(struct tsr_vk_context *c, struct tsr_vk_info *info)
{
    float prio = 1.0f;
    VkDeviceQueueCreateInfo q = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                 .queueFamilyIndex = c->queue_family,
                                 .queueCount = 1,
                                 .pQueuePriorities = &prio};
    VkDeviceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                             .queueCreateInfoCount = 1,
                             .pQueueCreateInfos = &q};
    VkResult r = c->fn.vkCreateDevice(c->phys, &ci, NULL, &c->device);
    if (r != VK_SUCCESS) {
        c->device = VK_NULL_HANDLE;
        snprintf(info->reason, sizeof info->reason, "vkCreateDevice on %s: %s", info->name,
                 vk_result_name(r));
        return TSR_ERR_UNSUPPORTED;
    }
#define LOAD_DEVICE_FN(name)                                                                       \
    if (!(c->fn.name = (PFN_##name)c->fn.vkGetDeviceProcAddr(c->device, #name))) {                 \
        snprintf(info->reason, sizeof info->reason, "the driver lacks " #name);                    \
        return TSR_ERR_UNSUPPORTED;                                                                \
    }
    TSR_VK_DEVICE_FNS(LOAD_DEVICE_FN)
#undef LOAD_DEVICE_FN
    c->fn.vkGetDeviceQueue(c->device, c->queue_family, 0, &c->queue);
    c->fn.vkGetPhysicalDeviceMemoryProperties(c->phys, &c->mem);
    return 0;
}

/* Three storage buffers (tile parameters, sources, canvas) and the tile index as
 * a push constant. */
static int create_pipeline(struct tsr_vk_context *c, struct tsr_vk_info *info)
{
    VkDescriptorSetLayoutBinding b[3];
    for (uint32_t i = 0; i < 3; i++)
        b[i] = (VkDescriptorSetLayoutBinding){.binding = i,
                                              .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                              .descriptorCount = 1,
                                              .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    VkDescriptorSetLayoutCreateInfo dl = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO, .bindingCount = 3, .pBindings = b};
    VkPushConstantRange pc = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .size = sizeof(int32_t)};
    VkShaderModuleCreateInfo sm = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                   .codeSize = sizeof compose_spv,
                                   .pCode = compose_spv};
    VkShaderModule module = VK_NULL_HANDLE;
    VkResult r = c->fn.vkCreateDescriptorSetLayout(c->device, &dl, NULL, &c->set_layout);
    if (r == VK_SUCCESS) {
        VkPipelineLayoutCreateInfo pl = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                         .setLayoutCount = 1,
                                         .pSetLayouts = &c->set_layout,
                                         .pushConstantRangeCount = 1,
                                         .pPushConstantRanges = &pc};
        r = c->fn.vkCreatePipelineLayout(c->device, &pl, NULL, &c->pipeline_layout);
    }
    if (r == VK_SUCCESS)
        r = c->fn.vkCreateShaderModule(c->device, &sm, NULL, &module);
    if (r == VK_SUCCESS) {
        VkComputePipelineCreateInfo cp = {
            .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
            .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                      .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                      .module = module,
                      .pName = "main"},
            .layout = c->pipeline_layout};
        r = c->fn.vkCreateComputePipelines(c->device, VK_NULL_HANDLE, 1, &cp, NULL, &c->pipeline);
        c->fn.vkDestroyShaderModule(c->device, module, NULL);
    }
    if (r != VK_SUCCESS) {
        snprintf(info->reason, sizeof info->reason, "compose pipeline on %s: %s", info->name,
                 vk_result_name(r));
        return TSR_ERR_UNSUPPORTED;
    }
    return 0;
}

static void context_destroy(struct tsr_vk_context *c)
{
    if (!c)
        return;
    if (c->device && c->fn.vkDestroyDevice) { /* NULL: the driver lacked an entry point */
        if (c->fn.vkDeviceWaitIdle)
            c->fn.vkDeviceWaitIdle(c->device);
        if (c->pipeline)
            c->fn.vkDestroyPipeline(c->device, c->pipeline, NULL);
        if (c->pipeline_layout)
            c->fn.vkDestroyPipelineLayout(c->device, c->pipeline_layout, NULL);
        if (c->set_layout)
            c->fn.vkDestroyDescriptorSetLayout(c->device, c->set_layout, NULL);
        c->fn.vkDestroyDevice(c->device, NULL);
    }
    if (c->instance)
        c->fn.vkDestroyInstance(c->instance, NULL);
    /* The loader stays mapped (no dlclose): unloading it gains nothing, and a leak
     * checker could no longer name the library that leaked. */
    g_mutex_clear(&c->queue_lock);
    free(c);
}

/* Loader, instance and device choice always (they fill g_info); the device and
 * the pipeline only when this request may use the device found. Under g_lock. */
static struct tsr_vk_context *context_create(bool gpu_only)
{
    struct tsr_vk_context *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    g_mutex_init(&c->queue_lock);
    memset(&g_info, 0, sizeof g_info);
    int rc = open_loader(c, &g_info);
    if (rc == 0)
        rc = create_instance(c, &g_info);
    if (rc == 0)
        rc = pick_device(c, &g_info);
    g_probed = true;
    if (rc == 0 && !(gpu_only && !is_gpu(g_info.type))) {
        rc = create_device(c, &g_info);
        if (rc == 0)
            rc = create_pipeline(c, &g_info);
        g_create_failed = rc != 0;
        if (rc == 0) {
            c->info = g_info;
            c->refs = 0;
            TSR_LOG(TSR_LOG_INFO, "compositor", "Vulkan device %s (%s) ready for composition",
                    g_info.name, tsr_vk_type_name(g_info.type));
            return c;
        }
    }
    context_destroy(c);
    return NULL;
}

int tsr_vk_context_get(struct tsr_vk_context **out, bool gpu_only, struct tsr_vk_info *info)
{
    g_mutex_lock(&g_lock);
    if (!g_ctx) {
        bool known_bad = g_probed && (!g_info.device || g_create_failed ||
                                      (gpu_only && !is_gpu(g_info.type)));
        if (!known_bad)
            g_ctx = context_create(gpu_only);
    }
    int rc = 0;
    struct tsr_vk_info snap = g_info;
    if (g_ctx && !(gpu_only && !is_gpu(g_ctx->info.type))) {
        g_ctx->refs++;
        *out = g_ctx;
        snap.reason[0] = '\0';
    } else {
        rc = TSR_ERR_UNSUPPORTED;
        if (snap.device && !g_create_failed && gpu_only && !is_gpu(snap.type))
            snprintf(snap.reason, sizeof snap.reason,
                     "%s is a %s implementation, not a GPU: the SIMD CPU compositor is faster "
                     "(compositor = vulkan uses it anyway)",
                     snap.name, tsr_vk_type_name(snap.type));
    }
    g_mutex_unlock(&g_lock);
    if (info)
        *info = snap;
    return rc;
}

void tsr_vk_context_unref(struct tsr_vk_context **p)
{
    if (!p || !*p)
        return;
    struct tsr_vk_context *c = *p;
    *p = NULL;
    g_mutex_lock(&g_lock);
    bool last = --c->refs == 0;
    if (last && g_ctx == c)
        g_ctx = NULL;
    g_mutex_unlock(&g_lock);
    if (last)
        context_destroy(c);
}

bool tsr_vk_context_mark_lost(struct tsr_vk_context *c)
{
    if (atomic_exchange(&c->lost, true))
        return false;
    g_mutex_lock(&g_lock);
    if (g_ctx == c)
        g_ctx = NULL; /* its holders keep it until they fall back; newcomers get another */
    g_mutex_unlock(&g_lock);
    return true;
}

int tsr_vk_memory_type(const struct tsr_vk_context *c, uint32_t type_bits,
                       VkMemoryPropertyFlags need, VkMemoryPropertyFlags want)
{
    int fallback = -1;
    for (uint32_t i = 0; i < c->mem.memoryTypeCount; i++) {
        VkMemoryPropertyFlags f = c->mem.memoryTypes[i].propertyFlags;
        if (!(type_bits & (1u << i)) || (f & need) != need)
            continue;
        if ((f & want) == want)
            return (int)i;
        if (fallback < 0)
            fallback = (int)i;
    }
    return fallback;
}

void tsr_vk_set_loader_name(const char *soname)
{
    g_mutex_lock(&g_lock);
    g_free(g_soname);
    g_soname = g_strdup(soname);
    g_probed = false;
    g_create_failed = false;
    memset(&g_info, 0, sizeof g_info);
    g_mutex_unlock(&g_lock);
}
