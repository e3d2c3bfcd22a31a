// The compositor's one pass: draw one tile of an I420 or NV12 canvas.
//
// One dispatch per changed tile (and one over the whole canvas for the background
// after a layout change). Invocation (x, y, z) owns one 32-bit word of row y of the
// tile in plane z (0: Y; 1: U, or interleaved UV in NV12; 2: V), so no two
// invocations of a dispatch write the same word and no 8-bit storage feature is
// needed: bytes of the word outside the tile keep their value. Dispatches of tiles
// that share a word are separated by a barrier (compositor_vk.c).
//
// A tile is either a flat fill (background, placeholder) or a picture scaled from
// the source buffer into its rectangle with bars of the fill colour around it
// (letterboxed content). The scale is a port of the C reference kernel
// (src/mix/compositor_kernels_c.c) on the plan the CPU path takes
// (compositor_geometry.c): an optional exact k x k box stage for large shrinks,
// then box taps with whole-sample edges when shrinking by more than 2, else
// bilinear (centre-aligned when shrinking or doubling, corner-aligned when
// enlarging). Integer parts are exact; the bilinear weights are single precision
// where the reference uses double, which moves a sample by at most one.
#version 450

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

// Mirrors struct gpu_plane in compositor_vk.c (std430, all 32-bit ints).
struct Plane {
    int off;    // byte offset of the crop origin in the source buffer
    int stride; // bytes per source row
    int step;   // bytes per sample (2 for interleaved NV12 chroma)
    int k;      // stage factor: 1 (none), 2 or 4
    int ox, oy; // stage region offset inside the crop, in samples
    int sw, sh; // what the final filter reads: the crop, or the k-reduced stage
    int dw, dh; // the picture in this plane
};

// Mirrors struct gpu_tile in compositor_vk.c.
struct Tile {
    int mode; // 0: fill the rectangle, 1: picture
    int nv12;
    int full_range; // source coded in full range: convert to limited
    int v_off;      // byte offset of the V crop origin (chroma.off is U's)
    int tx, ty, tw, th; // tile rectangle, luma samples, even
    int px, py, pw, ph; // picture rectangle inside it, luma samples, even
    int fill[4];        // Y, U, V of the fill (background bars or placeholder)
    int dst_off[4];     // canvas plane offsets in bytes, multiples of 4
    int dst_stride[4];  // canvas plane strides in bytes, multiples of 4
    Plane luma;
    Plane chroma;
};

layout(std430, set = 0, binding = 0) readonly buffer Tiles { Tile tiles[]; };
layout(std430, set = 0, binding = 1) readonly buffer Source { uint src[]; };
layout(std430, set = 0, binding = 2) buffer Canvas { uint canvas[]; };

layout(push_constant) uniform Push { int index; } pc;

uint src_byte(int off)
{
    return (src[off >> 2] >> uint((off & 3) << 3)) & 0xffu;
}

// Sample (x, y) of what the final filter reads: the crop itself, or the stage,
// whose samples are rounded k x k averages of the crop's k-aligned region.
int stage_sample(Plane p, int x, int y)
{
    if (p.k == 1)
        return int(src_byte(p.off + y * p.stride + x * p.step));
    int x0 = p.ox + x * p.k, y0 = p.oy + y * p.k;
    uint sum = 0u;
    for (int j = 0; j < p.k; j++)
        for (int i = 0; i < p.k; i++)
            sum += src_byte(p.off + (y0 + j) * p.stride + (x0 + i) * p.step);
    uint n = uint(p.k * p.k);
    return int((sum + n / 2u) / n);
}

// Box taps of output i: source samples [i*s/d, (i+1)*s/d) with edges truncated
// in 16.16 fixed point, at least one sample. i*dx < s<<16 <= 2^29: fits in 32 bits.
void box_tap(int i, int s, int d, out int first, out int count)
{
    uint dx = (uint(s) << 16) / uint(d);
    first = int((uint(i) * dx) >> 16);
    uint end_fp = min(uint(i + 1) * dx, uint(s) << 16);
    count = max(int(end_fp >> 16) - first, 1);
    if (first + count > s)
        first = s - count;
}

int box_sample(Plane p, int x, int y)
{
    int fx, cx, fy, cy;
    box_tap(x, p.sw, p.dw, fx, cx);
    box_tap(y, p.sh, p.dh, fy, cy);
    uint sum = 0u;
    for (int j = 0; j < cy; j++)
        for (int i = 0; i < cx; i++)
            sum += uint(stage_sample(p, fx + i, fy + j));
    uint n = uint(cx * cy);
    bool exact = (p.sw == 2 * p.dw && p.sh == 2 * p.dh) || (p.sw == 4 * p.dw && p.sh == 4 * p.dh);
    return int(exact ? (sum + n / 2u) / n : (sum * (65536u / n)) >> 16);
}

// Source coordinate of output i along one axis (the reference's conventions).
float axis_coord(int i, int s, int d, bool up2)
{
    if (up2)
        return max((float(i) + 0.5) * 0.5 - 0.5, 0.0);
    if (d < s)
        return max((float(i) + 0.5) * (float(s) / float(d)) - 0.5, 0.0);
    return d > 1 ? float(i) * float(s - 1) / float(d - 1) : 0.0;
}

// First tap, tap count (1 or 2) and the second tap's weight.
void bilinear_tap(float c, int s, out int first, out int count, out float w1)
{
    c = min(c, float(s - 1));
    first = int(c);
    count = first + 1 < s ? 2 : 1;
    w1 = count == 2 ? c - float(first) : 0.0;
}

int bilinear_sample(Plane p, int x, int y)
{
    bool up2 = (p.dw + 1) / 2 == p.sw && (p.dh + 1) / 2 == p.sh && p.dw > p.sw;
    int fx, nx, fy, ny;
    float wx, wy;
    bilinear_tap(axis_coord(x, p.sw, p.dw, up2), p.sw, fx, nx, wx);
    bilinear_tap(axis_coord(y, p.sh, p.dh, up2), p.sh, fy, ny, wy);
    float acc = 0.0;
    for (int i = 0; i < nx; i++) {
        float col = 0.0;
        for (int j = 0; j < ny; j++)
            col += (j == 0 ? 1.0 - wy : wy) * float(stage_sample(p, fx + i, fy + j));
        acc += (i == 0 ? 1.0 - wx : wx) * col;
    }
    return clamp(int(acc + 0.5), 0, 255);
}

int scale_sample(Plane p, int x, int y)
{
    // The reference decides box or bilinear once per plane, from the vertical ratio.
    return 2 * p.dh < p.sh ? box_sample(p, x, y) : bilinear_sample(p, x, y);
}

// Copied field by field: a whole-struct copy out of the buffer trips glslc's
// optimizer (shaderc 2023.2, "OpStore ... type does not match").
Plane load_plane(int t, bool chroma)
{
    Plane p;
    if (chroma) {
        p.off = tiles[t].chroma.off;
        p.stride = tiles[t].chroma.stride;
        p.step = tiles[t].chroma.step;
        p.k = tiles[t].chroma.k;
        p.ox = tiles[t].chroma.ox;
        p.oy = tiles[t].chroma.oy;
        p.sw = tiles[t].chroma.sw;
        p.sh = tiles[t].chroma.sh;
        p.dw = tiles[t].chroma.dw;
        p.dh = tiles[t].chroma.dh;
        return p;
    }
    p.off = tiles[t].luma.off;
    p.stride = tiles[t].luma.stride;
    p.step = tiles[t].luma.step;
    p.k = tiles[t].luma.k;
    p.ox = tiles[t].luma.ox;
    p.oy = tiles[t].luma.oy;
    p.sw = tiles[t].luma.sw;
    p.sh = tiles[t].luma.sh;
    p.dw = tiles[t].luma.dw;
    p.dh = tiles[t].luma.dh;
    return p;
}

// The value of byte bx of row `row` of the tile in `plane`.
int tile_byte(int t, int plane, int bx, int row)
{
    int channel = plane, x = bx;
    if (plane > 0 && tiles[t].nv12 != 0) {
        channel = 1 + (bx & 1);
        x = bx >> 1;
    }
    int fill = tiles[t].fill[channel];
    if (tiles[t].mode == 0)
        return fill;
    int sh = channel == 0 ? 0 : 1;
    int ox = x - ((tiles[t].px - tiles[t].tx) >> sh), oy = row - ((tiles[t].py - tiles[t].ty) >> sh);
    Plane p = channel == 0 ? load_plane(t, false) : load_plane(t, true);
    if (ox < 0 || oy < 0 || ox >= p.dw || oy >= p.dh)
        return fill; // bars around letterboxed content
    if (channel == 2)
        p.off = tiles[t].v_off;
    int v = scale_sample(p, ox, oy);
    if (tiles[t].full_range != 0)
        v = channel == 0 ? int(floor(16.0 + float(v) * 219.0 / 255.0 + 0.5))
                         : int(floor(128.0 + float(v - 128) * 224.0 / 255.0 + 0.5));
    return v;
}

void main()
{
    int t = pc.index;
    int plane = int(gl_GlobalInvocationID.z);
    bool nv12 = tiles[t].nv12 != 0;
    if (plane > (nv12 ? 1 : 2))
        return;
    bool sub = plane > 0;
    // The tile's bytes in this plane (NV12 chroma: two bytes per chroma sample).
    int bx = sub && !nv12 ? tiles[t].tx / 2 : tiles[t].tx;
    int bw = sub && !nv12 ? tiles[t].tw / 2 : tiles[t].tw;
    int rows = sub ? tiles[t].th / 2 : tiles[t].th;
    int row = int(gl_GlobalInvocationID.y);
    int word = (bx >> 2) + int(gl_GlobalInvocationID.x);
    if (row >= rows || word >= (bx + bw + 3) >> 2)
        return;
    int y = (sub ? tiles[t].ty / 2 : tiles[t].ty) + row;
    int at = ((tiles[t].dst_off[plane] + y * tiles[t].dst_stride[plane]) >> 2) + word;
    uint old = canvas[at], outw = 0u;
    for (int b = 0; b < 4; b++) {
        int x = word * 4 + b;
        uint v = x >= bx && x < bx + bw ? uint(tile_byte(t, plane, x - bx, row))
                                        : (old >> uint(8 * b)) & 0xffu;
        outw |= v << uint(8 * b);
    }
    canvas[at] = outw;
}
