/* Plain driver for a libFuzzer target: calls LLVMFuzzerTestOneInput on the
 * empty input, on every single byte, and on every file in the directories given
 * (missing directories are skipped: a target may have no crash repros). Each
 * input is an exact-size heap copy so ASan reports any read past its end.
 * Exit status: 0 when every input ran (a sanitizer aborts the process otherwise). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n < 0) {
        fclose(f);
        return -1;
    }
    uint8_t *buf = malloc(n ? (size_t)n : 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    if (got != (size_t)n) {
        free(buf);
        return -1;
    }
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    size_t files = 0;
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    uint8_t *empty = malloc(1);
    LLVMFuzzerTestOneInput(empty, 0);
    free(empty);
    for (int b = 0; b < 256; b++) {
        uint8_t *one = malloc(1);
        one[0] = (uint8_t)b;
        LLVMFuzzerTestOneInput(one, 1);
        free(one);
    }
    for (int i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        if (!d)
            continue;
        char **names = NULL;
        size_t n = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            names = realloc(names, (n + 1) * sizeof *names);
            names[n++] = strdup(e->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof *names, cmp_names); /* same order every run */
        for (size_t k = 0; k < n; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], names[k]);
            printf("replay %s\n", path);
            fflush(stdout);
            if (run_file(path) != 0) {
                fprintf(stderr, "cannot read %s\n", path);
                return 1;
            }
            files++;
            free(names[k]);
        }
        free(names);
    }
    printf("replayed %zu files + 257 built-in inputs\n", files);
    return 0;
}
