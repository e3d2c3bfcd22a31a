/* SRTP (RFC 3711) for the tests' hand-written SIP callers: AES_CM_128 with
 * HMAC-SHA1 tags of 80 or 32 bits, written here from the RFC on node's AES-CTR
 * and HMAC, so what Tessera's libsrtp2 protects is checked by something else.
 * RTP only, rollover counter 0 (a test's streams stay far below 65,536 packets). */
'use strict';
const crypto = require('node:crypto');

/* One session key (RFC 3711 §4.3.1, key derivation rate 0): AES-CM of zeros
 * under the master key, the IV being the master salt with `label` XORed in at
 * byte 7, shifted up 16 bits. */
function derive(masterKey, masterSalt, label, length) {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0);
  iv[7] ^= label;
  const c = crypto.createCipheriv('aes-128-ctr', masterKey, iv);
  return Buffer.concat([c.update(Buffer.alloc(length)), c.final()]);
}

/* A context from an SDES inline key (base64 of 16 key + 14 salt bytes). */
function context(inlineKey, tagBytes = 10) {
  const ks = Buffer.from(inlineKey, 'base64');
  if (ks.length !== 30) throw new Error(`SDES key of ${ks.length} bytes, not 30`);
  const key = ks.subarray(0, 16);
  const salt = ks.subarray(16, 30);
  return { enc: derive(key, salt, 0, 16), auth: derive(key, salt, 1, 20), salt: derive(key, salt, 2, 14), tagBytes };
}

function headerLength(pkt) {
  let n = 12 + 4 * (pkt[0] & 0x0f);
  if (pkt[0] & 0x10) n += 4 + 4 * pkt.readUInt16BE(n + 2);
  return n;
}

/* The keystream IV for packet index `seq` (ROC 0) of `ssrc` (§4.1.1). */
function packetIv(ctx, ssrc, seq) {
  const iv = Buffer.alloc(16);
  ctx.salt.copy(iv, 0);
  const s = Buffer.alloc(4);
  s.writeUInt32BE(ssrc >>> 0);
  for (let i = 0; i < 4; i++) iv[4 + i] ^= s[i];
  iv[12] ^= (seq >> 8) & 0xff;
  iv[13] ^= seq & 0xff;
  return iv;
}

function xorPayload(ctx, pkt, head) {
  const c = crypto.createCipheriv('aes-128-ctr', ctx.enc, packetIv(ctx, pkt.readUInt32BE(8), pkt.readUInt16BE(2)));
  return Buffer.concat([pkt.subarray(0, head), c.update(pkt.subarray(head)), c.final()]);
}

function tag(ctx, authenticated) {
  return crypto.createHmac('sha1', ctx.auth).update(authenticated).update(Buffer.alloc(4)).digest().subarray(0, ctx.tagBytes);
}

/* An RTP packet protected. */
function protect(ctx, pkt) {
  const sealed = xorPayload(ctx, pkt, headerLength(pkt));
  return Buffer.concat([sealed, tag(ctx, sealed)]);
}

/* The RTP packet inside an SRTP one, or null when its tag does not check. */
function unprotect(ctx, srtp) {
  if (srtp.length < 12 + ctx.tagBytes) return null;
  const body = srtp.subarray(0, srtp.length - ctx.tagBytes);
  if (!crypto.timingSafeEqual(tag(ctx, body), srtp.subarray(srtp.length - ctx.tagBytes))) return null;
  return xorPayload(ctx, body, headerLength(body));
}

module.exports = { context, protect, unprotect };
