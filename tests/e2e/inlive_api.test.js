/* The inLive Hub API v1 over HTTP, without a browser: the envelope and CORS on
 * every answer, rooms (201/409/404, generated ids, empty-room timeout, end),
 * register (number/string/absent uid; the server issues every client id, the
 * client's credential, and a uid used as an id is refused), the room's credential
 * for end and setmeta (its secret from create), the negotiation state machine with a
 * real Chrome offer (candidates buffered before it, answer with our candidates,
 * tracks_added/tracks_available queued until the stream opens), metadata with
 * meta_changed, leave → `left` + stream closed + 404, and bad input (missing
 * fields, wrong types, unknown ids, oversized bodies, wrong methods) answered with
 * the documented envelope while nothing else changes. */
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const h = require('./lib/harness');
const il = require('./lib/inlive');

/* Reads an SSE response into a list of {event, data}; resolves `closed` at end. */
function sseReader(resp) {
  const events = [];
  const decoder = new TextDecoder();
  let buf = '';
  const closed = (async () => {
    for await (const chunk of resp.body) {
      buf += decoder.decode(chunk, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const lines = block.split('\n');
        if (!lines[0].startsWith('event: ')) continue;
        h.assert.equal(lines.length, 2, `one data line per event: ${block}`);
        h.assert.ok(lines[1].startsWith('data: '));
        events.push({ event: lines[0].slice(7), data: JSON.parse(lines[1].slice(6)) });
      }
    }
  })();
  return { events, closed };
}

h.run('inlive_api', async ({ defer }) => {
  const server = await h.startServer({ sections: il.MIXER_SECTIONS });
  defer(() => server.stop()); // also checks a clean exit (no leaks under ASan)
  const base = server.url;
  const c = (m, r, b, o) => il.call(base, m, r, b, o);
  const offer = fs.readFileSync(path.join(h.sourceDir, 'tests/data/sdp/chrome_offer.sdp'), 'utf8');

  // CORS preflight, then rooms.
  const pre = await fetch(`${base}/v1/rooms/create`, { method: 'OPTIONS', headers: { Origin: 'http://example.org', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,authorization' } });
  h.assert.equal(pre.status, 204);
  h.assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  h.assert.match(pre.headers.get('access-control-allow-methods'), /PUT/);
  h.assert.match(pre.headers.get('access-control-allow-headers'), /Authorization/);
  const gen = await c('POST', '/rooms/create', { id: '', name: '' });
  h.assert.equal(gen.status, 201);
  h.assert.match(gen.json.data.id, /^[0-9A-Za-z]{16}$/);
  const r1 = await c('POST', '/rooms/create', { id: 'r1', name: 'Room one' });
  h.assert.equal(r1.status, 201);
  const r1Key = r1.json.data.room_secret; // ends the room, writes its metadata
  h.assert.match(r1Key, /^[0-9A-Za-z]{22}$/);
  h.assert.equal((await c('POST', '/rooms/create', { id: 'r1' })).json.message, 'room already exists');
  h.assert.equal((await c('GET', '/rooms/r1')).json.data.name, 'Room one');
  h.assert.equal((await c('GET', '/rooms/r1')).json.data.room_secret, undefined);
  h.assert.equal((await c('GET', '/rooms/nope')).status, 404);
  // Path ids are trimmed (an old client appended a space).
  h.assert.equal((await c('GET', '/rooms/r1%20')).status, 200);

  // Register: number uid (T23), string uid, no body (SDK). The server issues every
  // client id (the client's credential); a uid is only the default name.
  const reg123 = await c('POST', '/rooms/r1/register', { uid: 123 });
  const c123 = reg123.json.data.client_id;
  h.assert.match(c123, /^[0-9A-Za-z]{22}$/);
  h.assert.equal(reg123.json.data.name, '123');
  const named = await c('POST', '/rooms/r1/register', { uid: 'alice', name: 'Alice A.' });
  h.assert.deepEqual([named.status, named.json.data.name, typeof named.json.data.bitrates.video], [200, 'Alice A.', 'number']);
  const alice = named.json.data.client_id;
  h.assert.match(alice, /^[0-9A-Za-z]{22}$/);
  const anon = await fetch(`${base}/v1/rooms/r1/register`, { method: 'POST' }).then((r) => r.json());
  h.assert.match(anon.data.client_id, /^[0-9A-Za-z]{22}$/);

  // Bad input: each answered with the envelope; nothing changes.
  const snapshot = async () => JSON.stringify([(await c('GET', '/rooms/r1')).json, await server.status(),
    (await c('GET', `/rooms/r1/client/${alice}`)).json]);
  const before = await snapshot();
  const big = JSON.stringify({ uid: 'x'.repeat(70 * 1024) });
  const bad = [
    ['POST', '/rooms/create', null, '{"id": 5}', 400],
    ['POST', '/rooms/create', null, '{not json', 400],
    ['POST', '/rooms/create', null, '{"id":"a/b"}', 400],
    ['POST', '/rooms/create', null, '{"options":{"empty_room_timeout_ns":"soon"}}', 400],
    ['POST', '/rooms/r1/register', null, '{"uid": true}', 400],
    ['POST', '/rooms/r1/register', null, '{"uid": "bob", "name": 7}', 400],
    ['POST', '/rooms/r1/register', null, big, 413],
    ['POST', '/rooms/nope/register', {}, undefined, 404],
    ['PUT', `/rooms/r1/negotiate/${alice}`, {}, undefined, 400],
    ['PUT', `/rooms/r1/negotiate/${alice}`, { type: 'offer' }, undefined, 400],
    ['PUT', `/rooms/r1/negotiate/${alice}`, { type: 'rollback', sdp: 'v=0' }, undefined, 400],
    ['PUT', `/rooms/r1/negotiate/${alice}`, { type: 'offer', sdp: 'v=0\r\nnot sdp' }, undefined, 400],
    ['PUT', `/rooms/r1/negotiate/${alice}`, { type: 'answer', sdp: offer }, undefined, 409],
    ['PUT', '/rooms/r1/negotiate/nobody', { type: 'offer', sdp: offer }, undefined, 404],
    ['POST', `/rooms/r1/candidate/${alice}`, { sdpMid: '0' }, undefined, 400],
    ['POST', `/rooms/r1/candidate/${alice}`, { candidate: 5 }, undefined, 400],
    ['POST', `/rooms/r1/candidate/${alice}`, { candidate: 'bogus' }, undefined, 400],
    ['POST', `/rooms/r1/candidate/${alice}`, { candidate: 'candidate:1 1 udp 1 1.2.3.4 5 typ host', sdpMLineIndex: 'x' }, undefined, 400],
    ['PUT', `/rooms/r1/settracksources/${alice}`, { track_id: 'a' }, undefined, 400],
    ['PUT', `/rooms/r1/settracksources/${alice}`, [{ track_id: 'a', source: 'tv' }], undefined, 400],
    ['POST', `/rooms/r1/subscribetracks/${alice}`, [{ track_id: 'a' }], undefined, 400],
    ['PUT', `/rooms/r1/setname/${alice}`, { name: '' }, undefined, 400],
    ['POST', '/rooms/r1/setmeta', ['x'], undefined, 400, r1Key],
    // Issue 17: a uid is not a client id; end and setmeta need the room's credential.
    ['PUT', '/rooms/r1/setname/alice', { name: 'Mallory' }, undefined, 403],
    ['DELETE', '/rooms/r1/leave/alice', undefined, undefined, 403],
    ['GET', '/rooms/r1/events/alice', undefined, undefined, 403],
    ['PUT', '/rooms/r1/end', undefined, undefined, 401],
    ['PUT', '/rooms/r1/end', undefined, undefined, 403, 'not-the-secret'],
    ['POST', '/rooms/r1/setmeta', { topic: 'x' }, undefined, 401],
    ['DELETE', '/rooms/r1/deletemeta/topic', undefined, undefined, 401],
    ['GET', '/rooms/r1/getmeta/none', undefined, undefined, 404],
    ['DELETE', '/rooms/r1/deletemeta/none', undefined, undefined, 404, r1Key],
    ['GET', '/rooms/r1/events/nobody', undefined, undefined, 404],
    ['GET', `/rooms/nope/events/${alice}`, undefined, undefined, 404],
    ['DELETE', '/rooms/r1/leave/nobody', undefined, undefined, 404],
    ['PUT', '/rooms/nope/end', undefined, undefined, 404],
    ['GET', `/rooms/r1/negotiate/${alice}`, undefined, undefined, 405],
    ['DELETE', '/rooms/r1/end', undefined, undefined, 405],
    ['GET', `/rooms/r1/whatever/${alice}`, undefined, undefined, 404],
    ['GET', '/nothing', undefined, undefined, 404],
  ];
  for (const [m, route, body, raw, want, auth] of bad) {
    const r = await c(m, route, body === null ? {} : body, raw === undefined ? { auth } : { raw, auth });
    h.assert.equal(r.status, want, `${m} ${route} ${raw || JSON.stringify(body)}: ${JSON.stringify(r.json)}`);
    h.assert.equal(r.json.ok, false);
    h.assert.equal(r.json.data, null);
  }
  h.assert.equal(await snapshot(), before, 'bad requests changed state');
  const metrics = await (await fetch(`${base}/metrics`)).text();
  h.assert.match(metrics, /^tessera_inlive_rooms 2$/m);
  h.assert.match(metrics, /^tessera_inlive_clients 3$/m);
  h.assert.match(metrics, /^tessera_inlive_errors_total\{code="invalid_request_body"\} \d+$/m);
  h.assert.match(metrics, /^tessera_inlive_errors_total\{code="uid_not_client_id"\} 3$/m);
  h.assert.match(metrics, /^tessera_inlive_errors_total\{code="room_credential_required"\} 3$/m);
  h.assert.match(metrics, /^tessera_inlive_errors_total\{code="room_credential_wrong"\} 1$/m);

  // Negotiation: a candidate before its offer is buffered; then the offer joins.
  h.assert.equal((await c('POST', `/rooms/r1/candidate/${alice}`, { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host', sdpMid: '0', sdpMLineIndex: 0 })).status, 200);
  h.assert.equal((await c('POST', `/rooms/r1/candidate/${alice}`, { candidate: '' })).status, 200);
  h.assert.equal((await c('POST', `/rooms/r1/isallownegotiate/${alice}`)).status, 200);
  const neg = await c('PUT', `/rooms/r1/negotiate/${alice}`, { type: 'offer', sdp: offer });
  h.assert.equal(neg.status, 200, JSON.stringify(neg.json));
  h.assert.equal(neg.json.data.answer.type, 'answer');
  const answer = neg.json.data.answer.sdp;
  h.assert.match(answer, /a=candidate:/);
  h.assert.match(answer, /a=msid:tessera tessera-video/);
  h.assert.match(answer, /m=application 0 /);
  h.assert.equal((await server.status()).participants, 1);
  // A re-offer on the running session is answered from it (o= version bumped); an
  // ICE restart is refused (409) and the participant stays.
  const again = await c('PUT', `/rooms/r1/negotiate/${alice}`, { type: 'offer', sdp: offer });
  h.assert.equal(again.status, 200, JSON.stringify(again.json));
  const oLine = (sdp) => sdp.split('\r\n').find((l) => l.startsWith('o='));
  h.assert.equal(oLine(again.json.data.answer.sdp), oLine(answer).replace(/ 2 IN IP4/, ' 3 IN IP4'));
  h.assert.equal(again.json.data.answer.sdp.replace(/^o=.*$/m, ''), answer.replace(/^o=.*$/m, ''));
  const restart = offer.replace(/a=ice-ufrag:Xq0W/g, 'a=ice-ufrag:NEW1');
  h.assert.equal((await c('PUT', `/rooms/r1/negotiate/${alice}`, { type: 'offer', sdp: restart })).status, 409);
  h.assert.equal((await server.status()).participants, 1);
  h.assert.equal((await c('PUT', `/rooms/r1/settracksources/${alice}`, [{ track_id: 't', source: 'media' }])).status, 200);
  h.assert.equal((await c('POST', `/rooms/r1/subscribetracks/${alice}`, [{ client_id: 'mcu', track_id: 'tessera-video', stream_id: 'tessera' }])).status, 200);
  h.assert.equal((await c('PUT', `/rooms/r1/setname/${alice}`, { name: 'Alice B.' })).json.data.name, 'Alice B.');

  // Events: queued ones arrive when the stream opens (T24 opens it after the answer).
  const resp = await fetch(`${base}/v1/rooms/r1/events/${alice}`);
  h.assert.equal(resp.status, 200);
  h.assert.equal(resp.headers.get('content-type'), 'text/event-stream');
  h.assert.equal(resp.headers.get('access-control-allow-origin'), '*');
  const first = sseReader(resp);
  await h.waitFor(() => first.events.length >= 2, { what: 'queued events' });
  h.assert.deepEqual(first.events.map((e) => e.event), ['tracks_added', 'tracks_available']);
  // A second stream replaces the first (which ends) and gets the mix's tracks again.
  const sse = sseReader(await fetch(`${base}/v1/rooms/r1/events/${alice}`));
  await first.closed;
  await h.waitFor(() => sse.events.length >= 1, { what: 'tracks_available again' });
  h.assert.deepEqual(sse.events[0], first.events[1]);
  sse.events.unshift(first.events[0]);
  const added = Object.values(sse.events[0].data.tracks);
  h.assert.deepEqual(added.map((t) => t.kind).sort(), ['audio', 'video']);
  h.assert.equal(added[0].stream_id, '5f3c1f0e-6a4b-4a4e-9b0d-2d6f1c7c2b11');
  const avail = sse.events[1].data.tracks;
  for (const [key, t] of Object.entries(avail)) {
    h.assert.equal(key, t.track_id);
    h.assert.deepEqual([t.stream_id, t.client_id, t.client_name, t.source], ['tessera', 'mcu', 'Conference', 'media']);
  }

  // Metadata: set → meta_changed per key; get; delete → meta_changed null.
  h.assert.equal((await c('POST', '/rooms/r1/setmeta', { moderatorClientIDs: ['alice'], topic: 'x' }, { auth: r1Key })).status, 200);
  h.assert.deepEqual((await c('GET', '/rooms/r1/getmeta/moderatorClientIDs')).json.data, { moderatorClientIDs: ['alice'] });
  h.assert.equal((await c('DELETE', '/rooms/r1/deletemeta/topic', undefined, { auth: r1Key })).status, 200);
  await h.waitFor(() => sse.events.length >= 5, { what: 'meta events' });
  h.assert.deepEqual(sse.events.slice(2).map((e) => [e.event, e.data]),
    [['meta_changed', { moderatorClientIDs: ['alice'] }], ['meta_changed', { topic: 'x' }], ['meta_changed', { topic: null }]]);

  // Leave: `left` to this client only, its stream ends, then 404.
  h.assert.equal((await c('DELETE', `/rooms/r1/leave/${alice}`)).status, 200);
  await sse.closed;
  h.assert.deepEqual(sse.events.at(-1), { event: 'left', data: { client_id: alice, reason: 'left' } });
  h.assert.equal((await c('GET', `/rooms/r1/client/${alice}`)).status, 404);
  h.assert.equal((await c('POST', `/rooms/r1/leave/${alice}`)).status, 404);
  await h.waitFor(async () => (await server.status()).participants === 0, { what: 'participant gone' });

  // End: every client gets left, the room is gone.
  const ev123 = sseReader(await fetch(`${base}/v1/rooms/r1/events/${c123}`));
  h.assert.equal((await c('PUT', '/rooms/r1/end', undefined, { auth: r1Key })).status, 200);
  await ev123.closed;
  h.assert.equal(ev123.events.at(-1).event, 'left');
  h.assert.equal((await c('GET', '/rooms/r1')).status, 404);
  h.assert.equal((await c('GET', `/rooms/r1/events/${c123}`)).status, 404);

  // Empty rooms outlive their last client for empty_room_timeout_ns, then go.
  h.assert.equal((await c('POST', '/rooms/create', { id: 'brief', options: { empty_room_timeout_ns: 2e9 } })).status, 201);
  const u = (await c('POST', '/rooms/brief/register', { uid: 'u' })).json.data.client_id;
  await h.sleep(2500);
  h.assert.equal((await c('GET', '/rooms/brief')).status, 200, 'a room with a client stays');
  h.assert.equal((await c('DELETE', `/rooms/brief/leave/${u}`)).status, 200);
  h.assert.equal((await c('GET', '/rooms/brief')).status, 200, 'removed at once');
  await h.waitFor(async () => (await c('GET', '/rooms/brief')).status === 404, { timeoutMs: 8000, what: 'empty room removed' });

  // A room id that is not a valid conference alias still maps to one conference.
  const team = await c('POST', '/rooms/create', { id: 'Team Room #1' });
  h.assert.equal(team.status, 201);
  h.assert.equal((await c('GET', '/rooms/Team%20Room%20%231')).json.data.id, 'Team Room #1');
  const z = (await c('POST', '/rooms/Team%20Room%20%231/register', { uid: 'z' })).json.data.client_id;
  h.assert.equal((await c('PUT', `/rooms/Team%20Room%20%231/negotiate/${z}`, { type: 'offer', sdp: offer })).status, 200);
  h.assert.equal((await server.status()).participants, 1);
  h.assert.equal((await c('PUT', '/rooms/Team%20Room%20%231/end', undefined, { auth: team.json.data.room_secret })).status, 200);
  await h.waitFor(async () => (await server.status()).participants === 0, { what: 'hashed-alias room ended' });

  // A client that reconnects its event stream ten times, closing the old one first
  // as EventSource does, leaves no connection behind in CLOSE-WAIT on the server
  // (each new stream ends the one the client already left).
  const leak = await c('POST', '/rooms/create', { id: 'leak' });
  h.assert.equal(leak.status, 201);
  const x = (await c('POST', '/rooms/leak/register', { uid: 'x' })).json.data.client_id;
  let previous = null;
  for (let i = 0; i < 10; i++) {
    if (previous) previous.destroy();
    await new Promise((opened) => {
      previous = http.get({ host: '127.0.0.1', port: server.port, path: `/v1/rooms/leak/events/${x}`, agent: false }, (res) => {
        res.once('data', opened);
        res.on('data', () => {});
      });
      previous.on('error', opened);
    });
  }
  previous.destroy();
  h.assert.equal((await c('PUT', '/rooms/leak/end', undefined, { auth: leak.json.data.room_secret })).status, 200);
  const closeWait = () => execFileSync('ss', ['-Htan', 'state', 'close-wait', `( sport = :${server.port} )`]).toString().trim();
  await h.waitFor(async () => closeWait() === '', { timeoutMs: 10000, what: 'no server connection left in CLOSE-WAIT' })
    .catch((e) => { throw new Error(`${e.message}: ${closeWait()}`); });

  // Access tokens: derived from the Bearer asked with (a refresh gives the same one).
  const token = (await c('POST', '/keys/accesstoken', { expiry_seconds: 60 }, { auth: 'my-key' })).json.data;
  h.assert.match(token.access_token, /^[0-9a-f]{64}$/);
  h.assert.equal((await c('POST', '/keys/accesstoken', { expiry_seconds: 60 }, { auth: token.refresh_token })).json.data.access_token, token.access_token);
  h.assert.equal((await c('POST', `/room/${gen.json.data.id}/channel/create`, { name: 'chat', mode: true })).status, 200);

  // With ad-hoc conferences off, a room needs a conference the operator defined:
  // any other id is refused (403 adhoc_disabled), and nothing becomes joinable.
  const closed = await h.startServer({ allowAdhoc: false, conferences: [{ alias: 'defined' }], sections: il.MIXER_SECTIONS });
  defer(() => closed.stop());
  const c2 = (m, r, b) => il.call(closed.url, m, r, b);
  const refused = await c2('POST', '/rooms/create', { id: 'secretroom' });
  h.assert.equal(refused.status, 403);
  h.assert.equal(refused.json.code, 403);
  h.assert.equal((await fetch(`${closed.url}/api/v1/conferences/secretroom/join`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ display_name: 'x' }),
  })).status, 404);
  h.assert.equal((await c2('POST', '/rooms/create', { id: 'defined' })).status, 201);
  const a = (await c2('POST', '/rooms/defined/register', { uid: 'a' })).json.data.client_id;
  h.assert.equal((await c2('PUT', `/rooms/defined/negotiate/${a}`, { type: 'offer', sdp: offer })).status, 200);
  h.assert.equal((await closed.status()).participants, 1);
});
