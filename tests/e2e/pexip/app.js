/* A minimal Pexip app, written the way the SDK documents it (createInfinityClient
 * → call({callType: AudioVideo, node, conferenceAlias, displayName, bandwidth: 0,
 * mediaStream, host}) → onRemoteStream …). Everything it sees is recorded in
 * window.rec for the test to read. */
'use strict';
const P = window.Pexip;
const rec = {
  pinRequired: [], errors: [], disconnected: [], participants: [], joined: [], left: [],
  updated: [], messages: [], stage: null, layout: null, connected: false, remote: false,
  me: null, authenticated: false,
  preso: [], remotePresentation: false, presenting: false,
};
window.rec = rec;
let client = null;
let stream = null;

function makeClient() {
  const signals = P.createInfinityClientSignals(['onPinRequired', 'onParticipants', 'onError', 'onCallConnected'], {});
  const callSignals = P.createCallSignals([]);
  signals.onPinRequired.add((v) => rec.pinRequired.push(v));
  signals.onError.add((e) => rec.errors.push(e));
  signals.onDisconnected.add((e) => rec.disconnected.push(e || {}));
  signals.onAuthenticatedWithConference.add(() => { rec.authenticated = true; });
  signals.onParticipants.add((e) => { rec.participants = e.participants.map((p) => p.displayName); });
  signals.onParticipantJoined.add((list) => { for (const e of [].concat(list)) rec.joined.push(e.participant.displayName); });
  signals.onParticipantLeft.add((list) => { for (const e of [].concat(list)) rec.left.push(e.participant.displayName); });
  signals.onParticipantUpdated.add((list) => {
    for (const e of [].concat(list)) {
      const p = e.participant;
      rec.updated.push({ name: p.displayName, isMuted: p.isMuted, raisedHand: p.raisedHand, handRaisedTime: p.handRaisedTime });
    }
  });
  signals.onMe.add((e) => { rec.me = { uuid: e.participant.uuid, isHost: e.participant.isHost, name: e.participant.displayName }; });
  signals.onMessage.add((m) => rec.messages.push({ from: m.displayName, message: m.message, direct: m.direct }));
  signals.onStage.add((s) => { rec.stage = s; });
  signals.onLayoutUpdate.add((l) => { rec.layout = l; });
  callSignals.onCallConnected.add(() => { rec.connected = true; });
  // {send, recv}: the SDK's presentation states ('connecting', 'connected', ...).
  callSignals.onPresentationConnectionChange.add((st) => rec.preso.push({ send: st.send, recv: st.recv }));
  callSignals.onRemotePresentationStream.add(() => { rec.remotePresentation = true; });
  callSignals.onRemoteStream.add((s) => {
    rec.remote = true;
    const v = document.getElementById('remote');
    v.srcObject = s;
    v.play().catch(() => {});
  });
  return P.createInfinityClient(signals, callSignals);
}

/* One call(); resolves to the SDK's result ({status, data} or undefined). */
window.join = async function ({ host, alias, name, pin, callType = 'AudioVideo' }) {
  if (!stream) stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
  if (!client) client = makeClient();
  const res = await client.call({
    callType: P.ClientCallType[callType],
    node: new URL(host).host,
    host,
    conferenceAlias: alias,
    displayName: name,
    bandwidth: 0,
    mediaStream: stream,
    pin,
  });
  return res ? { status: res.status, data: res.data } : null;
};

window.leave = async function () {
  await client.disconnect({ reason: 'User initiated disconnect' });
  rec.connected = false;
  rec.remote = false;
};

window.sdk = () => client;

/* Presenting needs a user gesture (getDisplayMedia): the test clicks #present,
 * which shares the (fake) screen through the SDK's present(), or stops. */
async function togglePresent() {
  if (rec.presenting) {
    client.stopPresenting();
    rec.presenting = false;
    return;
  }
  const screen = await navigator.mediaDevices.getDisplayMedia({ video: { width: 640, height: 360, frameRate: 10 }, audio: false });
  client.present(screen);
  rec.presenting = true;
}
window.addEventListener('DOMContentLoaded', () => {
  document.getElementById('present').addEventListener('click', () => {
    togglePresent().catch((e) => rec.errors.push({ error: `present: ${e.message}` }));
  });
});

/* The slides section (the SDK's third m-line) of the current local or remote
 * description; the SDK adds a=content only to what it sends the server. */
window.slidesSection = function (which) {
  const pc = window.__pcs.find((x) => x.connectionState !== 'closed');
  const d = pc && (which === 'local' ? pc.localDescription : pc.remoteDescription);
  if (!d) return null;
  return d.sdp.split(/\r\n(?=m=)/).filter((sec) => sec.startsWith('m='))[2] || null;
};

/* Inbound video frames decoded so far, from the SDK's peer connection. */
window.framesDecoded = async function () {
  let n = 0;
  for (const pc of window.__pcs) {
    if (pc.connectionState === 'closed') continue;
    const stats = await pc.getStats();
    stats.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') n += s.framesDecoded || 0; });
  }
  return n;
};

/* Fraction of the remote picture within `tol` of rgb (per channel). */
window.colourShare = function (rgb, tol) {
  const v = document.getElementById('remote');
  if (!v.videoWidth) return 0;
  const c = document.getElementById('grab');
  c.width = v.videoWidth;
  c.height = v.videoHeight;
  const g = c.getContext('2d', { willReadFrequently: true });
  g.drawImage(v, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let hit = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (Math.abs(d[i] - rgb[0]) <= tol && Math.abs(d[i + 1] - rgb[1]) <= tol && Math.abs(d[i + 2] - rgb[2]) <= tol) hit++;
  }
  return hit / (d.length / 4);
};
