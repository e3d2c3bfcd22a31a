/* Dial-out: a host in a conference calls a listening baresip (Debian's baresip
 * 1.0, answering by itself) with POST /api/v1/conferences/{alias}/dial. Tessera's
 * INVITE has no SDP: baresip offers in its 200 and gets the answer in the ACK.
 * Asserted: the callee joins the roster under the participant id the dial
 * answered, with the display name and role asked for; baresip hears the
 * Chromium participant's 660 Hz and not its own 440 Hz, Chromium hears 440 Hz and
 * not 660 Hz, and each sees the other's colour (lib/sip_media.js); the host's kick
 * ends the call (baresip gets a BYE) and takes it out of the roster; the outcome is
 * counted in tessera_sip_dialout_total{result="answered"}. Then a dial to a port
 * where nothing listens fails (Sofia's own 503): counted as rejected, nobody joins, and the host's
 * event stream gets a dial event with state "failed". Then baresip, answering by
 * hand this time, rejects a call (486): counted as rejected, told with its status.
 * Last, the Pexip client API's dial (protocol sip, role HOST) calls the first phone
 * again: it joins as a host under the uuid the dial answered, and leaves the roster
 * when baresip hangs up. */
'use strict';
const path = require('node:path');
const h = require('./lib/harness');
const bs = require('./lib/baresip');
const sm = require('./lib/sip_media');

const ALIAS = 'e2e-dialout';
const SIP = { rgb: [40, 80, 220], hz: 440 };
const WEB = { name: 'Chromium Red', rgb: [220, 40, 40], hz: 660 };

async function api(server, method, route, token, body) {
  const r = await fetch(`${server.url}/api/v1${route}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

async function roster(server, token) {
  const r = await api(server, 'GET', `/conferences/${ALIAS}`, token);
  h.assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.participants;
}

/* The dial events of the host's event stream, collected as they come. */
function watchDialEvents(server, token) {
  const events = [];
  const ac = new AbortController();
  let opened;
  const ready = new Promise((resolve) => { opened = resolve; });
  (async () => {
    const r = await fetch(`${server.url}/api/v1/conferences/${ALIAS}/events?token=${token}`, { signal: ac.signal });
    opened(); // the response's head is here: the server has the subscription
    let buf = '';
    for await (const chunk of r.body) {
      buf += Buffer.from(chunk).toString('utf8');
      let at;
      while ((at = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, at);
        buf = buf.slice(at + 2);
        const ev = /^event: (.*)$/m.exec(block);
        const data = /^data: (.*)$/m.exec(block);
        if (ev && ev[1] === 'dial' && data) events.push(JSON.parse(data[1]));
      }
    }
  })().catch(() => {});
  return { events, ready, close: () => ac.abort() };
}

/* A UDP port on 127.0.0.1 nobody listens on (bound and released). */
function closedUdpPort() {
  const dgram = require('node:dgram');
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

h.run('sip_dialout', async ({ scratch, defer }) => {
  bs.requireBaresip();
  const { server } = await sm.startSipServer(defer);
  const page = await sm.joinChromium(server, scratch, defer, ALIAS, WEB);
  const dir = path.join(scratch, 'baresip');
  const y4m = h.makeY4m(path.join(scratch, 'sip.y4m'), SIP.rgb, { frames: 30 });
  const phone = await bs.startBaresip(dir, { hz: SIP.hz, y4m, user: 'room', answermode: 'auto' });
  defer(() => phone.stop());

  // The host: a roster-only participant of the native API (no PINs: everyone is host).
  const host = await api(server, 'POST', `/conferences/${ALIAS}/join`, null, { display_name: 'Host' });
  h.assert.equal(host.status, 200, JSON.stringify(host.body));
  h.assert.equal(host.body.role, 'host');
  const token = host.body.token;
  const watch = watchDialEvents(server, token);
  defer(() => watch.close());
  await watch.ready; // else the "calling" event can go out before the stream is open

  const dial = await api(server, 'POST', `/conferences/${ALIAS}/dial`, token,
    { uri: phone.uri, display_name: 'Meeting Room', role: 'guest' });
  h.assert.equal(dial.status, 202, JSON.stringify(dial.body));
  const id = dial.body.participant_id;
  h.assert.match(id, /^[0-9a-f-]{36}$/);

  await h.waitFor(() => phone.events.some((e) => e.type === 'CALL_ESTABLISHED'),
    { timeoutMs: 30000, what: `baresip to answer\n${phone.log().slice(-3000)}` });
  const callee = await h.waitFor(async () => (await roster(server, token)).find((p) => p.id === id),
    { timeoutMs: 15000, what: 'the callee in the roster' });
  h.assert.equal(callee.display_name, 'Meeting Room');
  h.assert.equal(callee.role, 'guest');
  h.assert.equal(callee.has_media, true);
  h.assert.equal(await sm.metric(server, 'tessera_sip_dialout_total{result="answered"}'), 1);

  await sm.expectExchange('sip_dialout', { page, phone, dir }, SIP, WEB);

  // The host kicks the callee: baresip gets a BYE and the roster empties of it.
  const kick = await api(server, 'DELETE', `/participants/${id}`, token);
  h.assert.equal(kick.status, 204);
  await h.waitFor(() => phone.events.some((e) => e.type === 'CALL_CLOSED'),
    { timeoutMs: 15000, what: 'baresip to get our BYE' });
  h.assert.ok(!(await roster(server, token)).some((p) => p.id === id), 'the callee left the roster');
  const states = () => watch.events.filter((e) => e.participant_id === id).map((e) => e.state);
  await h.waitFor(() => states().includes('ended'), { what: 'the dial events up to "ended"' });
  h.assert.deepEqual(states().filter((s) => s !== 'ringing'), ['calling', 'answered', 'ended']);

  // Nothing listens there: the call fails, nobody joins, the failure is counted and told.
  const port = await closedUdpPort();
  const bad = await api(server, 'POST', `/conferences/${ALIAS}/dial`, token, { uri: `sip:nobody@127.0.0.1:${port}` });
  h.assert.equal(bad.status, 202, JSON.stringify(bad.body));
  const failure = await h.waitFor(() => watch.events.find((e) => e.participant_id === bad.body.participant_id && e.state === 'failed'),
    { timeoutMs: 45000, what: 'the failed dial event' });
  console.log(`dial to a closed port: ${failure.status} ${failure.reason}`);
  // Loopback answers with ICMP port unreachable: Sofia's own 503 at once.
  h.assert.equal(failure.status, 503);
  h.assert.equal(await sm.metric(server, 'tessera_sip_dialout_total{result="rejected"}'), 1);
  h.assert.ok(!(await roster(server, token)).some((p) => p.id === bad.body.participant_id));
  h.assert.equal((await server.status()).participants, 2); // Chromium and the host

  // A phone that rings and is turned down: baresip answering by hand hangs up.
  const busy = await bs.startBaresip(path.join(scratch, 'busy'), { hz: 880, user: 'busy' });
  defer(() => busy.stop());
  const no = await api(server, 'POST', `/conferences/${ALIAS}/dial`, token, { uri: busy.uri, role: 'host' });
  h.assert.equal(no.status, 202, JSON.stringify(no.body));
  await h.waitFor(() => busy.events.some((e) => e.type === 'CALL_INCOMING'),
    { timeoutMs: 15000, what: `the busy phone to ring\n${busy.log().slice(-2000)}` });
  busy.command('hangup');
  const turnedDown = await h.waitFor(() => watch.events.find((e) => e.participant_id === no.body.participant_id && e.state === 'failed'),
    { timeoutMs: 15000, what: 'the rejected dial event' });
  console.log(`busy phone: ${turnedDown.status} ${turnedDown.reason}`);
  h.assert.ok(turnedDown.status >= 400 && turnedDown.status < 700, `a SIP error status, got ${turnedDown.status}`);
  h.assert.equal(await sm.metric(server, 'tessera_sip_dialout_total{result="rejected"}'), 2);
  h.assert.ok(watch.events.some((e) => e.participant_id === no.body.participant_id && e.state === 'ringing'), 'it rang first');
  h.assert.equal((await server.status()).participants, 2);

  // The Pexip client API's dial calls the same phone again, as a host this time;
  // then baresip hangs up and leaves the roster.
  const pex = `${server.url}/api/client/v2/conferences/${ALIAS}`;
  const tok = await (await fetch(`${pex}/request_token`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ display_name: 'Pexip Host' }),
  })).json();
  h.assert.equal(tok.result.role, 'HOST');
  const established = phone.events.filter((e) => e.type === 'CALL_ESTABLISHED').length;
  const pdial = await fetch(`${pex}/dial`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', token: tok.result.token },
    body: JSON.stringify({ destination: phone.uri, protocol: 'sip', role: 'HOST', source_display_name: 'Room Again' }),
  });
  const pbody = await pdial.json();
  h.assert.equal(pdial.status, 200, JSON.stringify(pbody));
  h.assert.equal(pbody.status, 'success');
  const again = pbody.result[0];
  await h.waitFor(() => phone.events.filter((e) => e.type === 'CALL_ESTABLISHED').length > established,
    { timeoutMs: 30000, what: 'baresip to answer the Pexip dial' });
  const second = await h.waitFor(async () => (await roster(server, token)).find((p) => p.id === again),
    { timeoutMs: 15000, what: 'the Pexip-dialled callee in the roster' });
  h.assert.equal(second.role, 'host');
  h.assert.equal(second.display_name, 'Room Again');
  phone.command('hangup');
  await h.waitFor(async () => !(await roster(server, token)).some((p) => p.id === again),
    { timeoutMs: 15000, what: 'baresip to leave after its BYE' });
  h.assert.equal(await sm.metric(server, 'tessera_sip_dialout_total{result="answered"}'), 2);
});
