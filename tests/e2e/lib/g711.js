/* G.711 (ITU-T G.711 µ-law and A-law) written out for the tests' node callers,
 * 20 ms tone packets in it, and a Goertzel measure of how much of a signal is one
 * tone: what the SIP tests send and check without a codec library. */
'use strict';

/* µ-law of one 16-bit sample: sign, 3-bit segment, 4-bit step, inverted. */
function ulawEncode(sample) {
  let s = Math.max(-32635, Math.min(32635, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  s = Math.abs(s) + 0x84;
  let seg = 7;
  while (seg > 0 && !(s & (0x4000 >> (7 - seg)))) seg--;
  return ~(sign | (seg << 4) | ((s >> (seg + 3)) & 0x0f)) & 0xff;
}

function ulawDecode(byte) {
  const u = ~byte & 0xff;
  const seg = (u >> 4) & 7;
  const mag = ((((u & 0x0f) << 3) + 0x84) << seg) - 0x84;
  return u & 0x80 ? -mag : mag;
}

/* A-law: 13-bit magnitude, segment and step, even bits inverted (0x55). */
function alawEncode(sample) {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const mask = s >= 0 ? 0xd5 : 0x55;
  s = (s >= 0 ? s : -s - 1) >> 3;
  let seg = 0;
  while (seg < 7 && s >= 32 << seg) seg++;
  const step = seg === 0 ? (s >> 1) & 0x0f : (s >> seg) & 0x0f;
  return ((seg << 4) | step) ^ mask;
}

function alawDecode(byte) {
  const a = byte ^ 0x55;
  const seg = (a >> 4) & 7;
  const step = a & 0x0f;
  const mag = seg === 0 ? (step << 4) + 8 : ((step << 4) + 0x108) << (seg - 1);
  return a & 0x80 ? mag : -mag;
}

/* Packet k of a 20 ms G.711 stream (pt 0 µ-law, 8 A-law) of a tone at `hz`,
 * sequence numbers from `seq0`. */
function tonePacket(k, ssrc, pt, hz, seq0 = 1000) {
  const b = Buffer.alloc(12 + 160);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE((seq0 + k) & 0xffff, 2);
  b.writeUInt32BE((160 * k) >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  const enc = pt === 8 ? alawEncode : ulawEncode;
  for (let i = 0; i < 160; i++) b[12 + i] = enc(8000 * Math.sin((2 * Math.PI * hz * (160 * k + i)) / 8000));
  return b;
}

/* Power of `hz` in 8 kHz samples (Goertzel), as a share of their whole power. */
function toneShare(samples, hz) {
  const w = (2 * Math.PI * hz) / 8000;
  let s1 = 0;
  let s2 = 0;
  let total = 0;
  for (const x of samples) {
    const s0 = x + 2 * Math.cos(w) * s1 - s2;
    s2 = s1;
    s1 = s0;
    total += x * x;
  }
  const p = s1 * s1 + s2 * s2 - 2 * Math.cos(w) * s1 * s2;
  return total > 0 ? (2 * p) / (samples.length * total) : 0;
}

module.exports = { ulawEncode, ulawDecode, alawEncode, alawDecode, tonePacket, toneShare };
