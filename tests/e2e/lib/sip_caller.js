/* A hand-written SIP user agent on a UDP socket of its own, for the tests that need
 * what no real endpoint here sends (an md5-only DTLS offer, an INVITE without SDP):
 * requests out, messages in, the few header helpers those tests read. */
'use strict';
const crypto = require('node:crypto');
const dgram = require('node:dgram');
const h = require('./harness');

/* Calls towards serverUri ("sip:alias@127.0.0.1:port") as `user` shown as `name`. */
async function sipCaller(serverUri, { user = 'tester', name = 'SIP test' } = {}) {
  const sock = dgram.createSocket('udp4');
  await new Promise((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const port = sock.address().port;
  const [, host, sipPort] = /@([\d.]+):(\d+)/.exec(serverUri);
  const inbox = [];
  sock.on('message', (m) => inbox.push(m.toString('utf8')));
  let cseq = 0;
  const c = { port, inbox, close: () => sock.close() };
  c.send = (text) => sock.send(text, Number(sipPort), host);
  c.request = (method, { callId, uri = serverUri, toTag = '', body = '', seq } = {}) => {
    const n = seq || ++cseq;
    c.send(`${method} ${uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${crypto.randomUUID()};rport\r\n`
      + `Max-Forwards: 70\r\nFrom: "${name}" <sip:${user}@127.0.0.1>;tag=${user}1\r\nTo: <${serverUri}>${toTag ? `;tag=${toTag}` : ''}\r\n`
      + `Call-ID: ${callId}\r\nCSeq: ${n} ${method}\r\nContact: <sip:${user}@127.0.0.1:${port}>\r\n`
      + `${body ? 'Content-Type: application/sdp\r\n' : ''}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    return n;
  };
  /* The first message (taken from the inbox) matching `re`. */
  c.next = (re, what) => h.waitFor(() => {
    const i = inbox.findIndex((m) => re.test(m));
    return i >= 0 && inbox.splice(i, 1)[0];
  }, { timeoutMs: 30000, what });
  c.header = (msg, name) => (new RegExp(`^${name}:\\s*(.*)$`, 'mi').exec(msg) || [])[1];
  c.toTag = (msg) => /tag=([^;\s]+)/.exec(c.header(msg, 'To'))[1];
  c.contact = (msg) => /<([^>]+)>/.exec(c.header(msg, 'Contact'))[1];
  /* 200 OK to a request the server sent. */
  c.ok = (req) => c.send(`SIP/2.0 200 OK\r\n${['Via', 'From', 'To', 'Call-ID', 'CSeq']
    .map((n) => `${n}: ${c.header(req, n)}`).join('\r\n')}\r\nContent-Length: 0\r\n\r\n`);
  return c;
}

module.exports = { sipCaller };
