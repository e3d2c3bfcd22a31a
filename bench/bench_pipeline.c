/* Pipeline benchmark: a whole 4-party mix, tessera-mix against the equivalent single
 * ffmpeg command, on the same four generated 10 s 1280x720 30 fps VP8 inputs with
 * noise (~1.5 Mbit/s each). Both decode the four inputs, scale each into a 2x2
 * 1280x720 canvas and encode H.264 with libx264 ultrafast/zerolatency at 2 Mbit/s.
 * Reported: CPU seconds (user + system, all threads) of each and their ratio; the
 * target (DESIGN.md 8) is <= 0.75.
 *
 * Inputs are generated once with the ffmpeg CLI into <results>/pipeline-inputs and
 * reused. Prints a table and writes pipeline.csv into argv[1]. */
#include <glib.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct cost {
    double cpu_s;
    double wall_s;
    int status;
};

static struct cost run(char **argv)
{
    struct cost c = {0, 0, -1};
    pid_t pid;
    int64_t t0 = g_get_monotonic_time();
    if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0) {
        fprintf(stderr, "bench_pipeline: cannot run %s\n", argv[0]);
        return c;
    }
    struct rusage ru;
    int status = 0;
    if (wait4(pid, &status, 0, &ru) < 0)
        return c;
    c.wall_s = (double)(g_get_monotonic_time() - t0) / 1e6;
    c.cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
              ru.ru_stime.tv_usec / 1e6;
    c.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    return c;
}

static int make_inputs(const char *dir, char *paths[4])
{
    g_mkdir_with_parents(dir, 0755);
    for (int i = 0; i < 4; i++) {
        paths[i] = g_strdup_printf("%s/in%d.webm", dir, i);
        if (g_file_test(paths[i], G_FILE_TEST_EXISTS))
            continue;
        char *src = g_strdup_printf("testsrc2=s=1280x720:r=30:d=10");
        char *vf = g_strdup_printf("hue=h=%d,noise=alls=14:allf=t+u:all_seed=%d", i * 90, i + 1);
        char *tmp = g_strdup_printf("%s.part.webm", paths[i]);
        char *argv[] = {"ffmpeg", "-v",   "error", "-nostdin",  "-y",       "-f",
                        "lavfi",  "-i",   src,     "-vf",       vf,         "-c:v",
                        "libvpx", "-b:v", "1500k", "-deadline", "realtime", "-cpu-used",
                        "8",      "-g",   "300",   tmp,         NULL};
        fprintf(stderr, "bench_pipeline: generating %s (once)\n", paths[i]);
        struct cost c = run(argv);
        if (c.status == 0)
            rename(tmp, paths[i]);
        g_free(src);
        g_free(vf);
        g_free(tmp);
        if (c.status != 0)
            return -1;
    }
    return 0;
}

static char *tool_path(void)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return g_strdup("build/tessera-mix");
    self[n] = 0;
    char *dir = g_path_get_dirname(self); /* build/bench */
    char *p = g_build_filename(dir, "..", "tessera-mix", NULL);
    g_free(dir);
    return p;
}

int main(int argc, char **argv)
{
    const char *results = argc > 1 ? argv[1] : ".";
    char *in_dir = g_build_filename(results, "pipeline-inputs", NULL);
    char *in[4] = {NULL};
    if (make_inputs(in_dir, in) < 0) {
        fprintf(stderr, "bench_pipeline: cannot generate inputs (is the ffmpeg CLI installed?)\n");
        return 1;
    }
    char *tool = tool_path();
    char *out_t = g_build_filename(results, "pipeline-tessera.mp4", NULL);
    char *out_f = g_build_filename(results, "pipeline-ffmpeg.mp4", NULL);
    char *targv[] = {tool,   "--size",    "1280x720", "--fps",     "30",  "--codec",
                     "h264", "--encoder", "software", "--bitrate", "2M",  "-o",
                     out_t,  in[0],       in[1],      in[2],       in[3], NULL};
    const char *graph =
        "[0:v]scale=640:360[a];[1:v]scale=640:360[b];[2:v]scale=640:360[c];"
        "[3:v]scale=640:360[d];[a][b][c][d]xstack=inputs=4:layout=0_0|w0_0|0_h0|w0_h0[v]";
    char *fargv[] = {"ffmpeg",      "-v",
                     "error",       "-nostdin",
                     "-y",          "-i",
                     in[0],         "-i",
                     in[1],         "-i",
                     in[2],         "-i",
                     in[3],         "-filter_complex",
                     (char *)graph, "-map",
                     "[v]",         "-r",
                     "30",          "-c:v",
                     "libx264",     "-preset",
                     "ultrafast",   "-tune",
                     "zerolatency", "-profile:v",
                     "baseline",    "-b:v",
                     "2M",          "-maxrate",
                     "2M",          "-bufsize",
                     "1M",          out_f,
                     NULL};
    struct cost t = run(targv);
    struct cost f = run(fargv);
    if (t.status != 0 || f.status != 0) {
        fprintf(stderr, "bench_pipeline: a run failed (tessera-mix %d, ffmpeg %d)\n", t.status,
                f.status);
        return 1;
    }
    double ratio = t.cpu_s / f.cpu_s;
    printf("pipeline: 4 x 1280x720 30 fps VP8 (10 s, noisy) -> 2x2 1280x720 H.264 2 Mbit/s\n");
    printf("%-12s %10s %10s\n", "", "CPU s", "wall s");
    printf("%-12s %10.2f %10.2f\n", "tessera-mix", t.cpu_s, t.wall_s);
    printf("%-12s %10.2f %10.2f\n", "ffmpeg", f.cpu_s, f.wall_s);
    printf("CPU ratio tessera/ffmpeg: %.3f (target <= 0.75)\n", ratio);
    char *csv_path = g_build_filename(results, "pipeline.csv", NULL);
    FILE *csv = fopen(csv_path, "w");
    if (csv) {
        fprintf(csv, "tool,cpu_s,wall_s\ntessera-mix,%.3f,%.3f\nffmpeg,%.3f,%.3f\nratio,%.4f,\n",
                t.cpu_s, t.wall_s, f.cpu_s, f.wall_s, ratio);
        fclose(csv);
    }
    g_free(csv_path);
    for (int i = 0; i < 4; i++)
        g_free(in[i]);
    g_free(in_dir);
    g_free(tool);
    g_free(out_t);
    g_free(out_f);
    return 0;
}
