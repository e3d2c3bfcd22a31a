/* The process's Vulkan context for the GPU compositor (compositor_vk.c): the loader,
 * one device with a compute queue, and the compose pipeline built from the SPIR-V
 * embedded at build time (shaders/compose.comp).
 *
 * The loader is opened with dlopen("libvulkan.so.1"), so a machine without Vulkan
 * runs the server on the CPU compositor; every entry point is fetched through
 * vkGetInstanceProcAddr / vkGetDeviceProcAddr into struct tsr_vk_fns.
 *
 * One context serves every compositor of the process (views render on several
 * threads: the queue is taken under queue_lock, everything else in the context is
 * immutable once made). It is refcounted and freed with its last compositor. A lost
 * device marks it lost: its compositors fall back to the CPU, and the next
 * compositor asking for the GPU gets a new context (a new device) if one can be made.
 * Internal to src/mix and its tests. Thread: any. */
#ifndef TSR_MIX_VK_CONTEXT_H
#define TSR_MIX_VK_CONTEXT_H

#define VK_NO_PROTOTYPES
#include <glib.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <vulkan/vulkan.h>

#define TSR_VK_INSTANCE_FNS(X)                                                                     \
    X(vkDestroyInstance)                                                                           \
    X(vkEnumeratePhysicalDevices)                                                                  \
    X(vkGetPhysicalDeviceProperties)                                                               \
    X(vkGetPhysicalDeviceQueueFamilyProperties)                                                    \
    X(vkGetPhysicalDeviceMemoryProperties)                                                         \
    X(vkCreateDevice)                                                                              \
    X(vkGetDeviceProcAddr)

#define TSR_VK_DEVICE_FNS(X)                                                                       \
    X(vkDestroyDevice)                                                                             \
    X(vkGetDeviceQueue)                                                                            \
    X(vkCreateShaderModule)                                                                        \
    X(vkDestroyShaderModule)                                                                       \
    X(vkCreateDescriptorSetLayout)                                                                 \
    X(vkDestroyDescriptorSetLayout)                                                                \
    X(vkCreatePipelineLayout)                                                                      \
    X(vkDestroyPipelineLayout)                                                                     \
    X(vkCreateComputePipelines)                                                                    \
    X(vkDestroyPipeline)                                                                           \
    X(vkCreateDescriptorPool)                                                                      \
    X(vkDestroyDescriptorPool)                                                                     \
    X(vkAllocateDescriptorSets)                                                                    \
    X(vkUpdateDescriptorSets)                                                                      \
    X(vkCreateBuffer)                                                                              \
    X(vkDestroyBuffer)                                                                             \
    X(vkGetBufferMemoryRequirements)                                                               \
    X(vkAllocateMemory)                                                                            \
    X(vkFreeMemory)                                                                                \
    X(vkBindBufferMemory)                                                                          \
    X(vkMapMemory)                                                                                 \
    X(vkUnmapMemory)                                                                               \
    X(vkCreateCommandPool)                                                                         \
    X(vkDestroyCommandPool)                                                                        \
    X(vkAllocateCommandBuffers)                                                                    \
    X(vkBeginCommandBuffer)                                                                        \
    X(vkEndCommandBuffer)                                                                          \
    X(vkCmdBindPipeline)                                                                           \
    X(vkCmdBindDescriptorSets)                                                                     \
    X(vkCmdPushConstants)                                                                          \
    X(vkCmdDispatch)                                                                               \
    X(vkCmdPipelineBarrier)                                                                        \
    X(vkCreateFence)                                                                               \
    X(vkDestroyFence)                                                                              \
    X(vkResetFences)                                                                               \
    X(vkWaitForFences)                                                                             \
    X(vkQueueSubmit)                                                                               \
    X(vkDeviceWaitIdle)

#define TSR_VK_FN_FIELD(name) PFN_##name name;
struct tsr_vk_fns {
    PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr;
    PFN_vkCreateInstance vkCreateInstance;
    TSR_VK_INSTANCE_FNS(TSR_VK_FN_FIELD)
    TSR_VK_DEVICE_FNS(TSR_VK_FN_FIELD)
};
#undef TSR_VK_FN_FIELD

/* What the process found: filled by every tsr_vk_context_get, success or not. */
struct tsr_vk_info {
    bool loader;     /* libvulkan.so.1 opened */
    bool device;     /* a device with a compute queue exists */
    char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE]; /* the best such device */
    VkPhysicalDeviceType type;
    uint32_t api_version;
    char reason[512]; /* why no context was handed out; "" on success */
};

struct tsr_vk_context {
    struct tsr_vk_fns fn;
    void *lib;
    VkInstance instance;
    VkPhysicalDevice phys;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    VkPhysicalDeviceMemoryProperties mem;
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout pipeline_layout;
    VkPipeline pipeline;
    GMutex queue_lock; /* vkQueueSubmit needs the queue externally synchronized */
    atomic_bool lost;
    int refs; /* under the module's lock */
    struct tsr_vk_info info;
};

/* Purpose: a reference to the process's context. `gpu_only` (compositor = auto):
 * refuse a CPU implementation (lavapipe, SwiftShader), which is slower than the
 * SIMD CPU compositor. Fills *info (may be NULL) either way. A missing loader or
 * device is remembered, so asking again costs nothing.
 * Returns 0 and *out, or TSR_ERR_UNSUPPORTED (info->reason says why). */
int tsr_vk_context_get(struct tsr_vk_context **out, bool gpu_only, struct tsr_vk_info *info);

/* Purpose: drop a reference; the last one frees the context. NULLs *p; accepts NULL. */
void tsr_vk_context_unref(struct tsr_vk_context **p);

/* Purpose: mark the device lost; new compositors get a new context. Returns true
 * for the first caller (who logs it). */
bool tsr_vk_context_mark_lost(struct tsr_vk_context *c);

/* Purpose: a memory type among `type_bits` with all of `need`, preferring `want` too;
 * -1 if none. */
int tsr_vk_memory_type(const struct tsr_vk_context *c, uint32_t type_bits,
                       VkMemoryPropertyFlags need, VkMemoryPropertyFlags want);

/* Purpose: a short name of a device type ("discrete", "integrated", "virtual",
 * "cpu", "other"). Static string. */
const char *tsr_vk_type_name(VkPhysicalDeviceType t);

/* Purpose (tests): open `soname` instead of libvulkan.so.1 (NULL: the default) and
 * forget what earlier attempts found. Only while no context is alive. */
void tsr_vk_set_loader_name(const char *soname);

#endif
