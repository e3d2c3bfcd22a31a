/* Tessera web client: join screen with device preview, one RTCPeerConnection to
 * the server (camera + mic up, the composite + mix down), roster over SSE.
 * Plain ES2020, no build step. Test hooks: window.tessera and data-testid. */
'use strict';

const API = '/api/v1';
const $ = (id) => document.getElementById(id);

/* Everything tests may look at. */
const tessera = {
  state: 'join',        // join | pin | connecting | conference | error | left
  error: null,          // {code, message} of the last error screen
  pc: null,
  conference: null,     // alias
  participantId: null,
  token: null,
  role: null,
  layout: null,
  locked: false,
  selfView: false,      // the host's self-view setting: everyone sees the same picture
  roster: [],           // participant objects from the server
  talkers: [],
  recording: null,      // the running recording ({id, state, file}) or null
  streams: [],          // running streams ({id, state, url, reason})
  outputEvents: [],     // every recording / stream event's data, in order
  events: [],           // names of SSE events received, in order
  presenter: null,      // {participant_id, display_name} of who presents, or null
  sharing: false,       // this client shares its screen
  sharePc: null,        // the screen share's own RTCPeerConnection
};
window.tessera = tessera;

let token = null;
let localStream = null;
let previewReady = null; // promise of the running startPreview()
let eventSource = null;
let refreshTimer = null;
let eventFailures = 0; // event stream errors in a row
let meterStop = null;
let pendingCandidates = [];
let micMuted = false;
let camOff = false;
let videoLoaded = false;

/* ---------- screens ---------- */

function show(state) {
  tessera.state = state;
  document.body.dataset.state = state;
  const screen = state === 'left' ? 'error' : state; // "left" reuses the message card
  for (const s of document.querySelectorAll('[data-screen]')) s.hidden = s.dataset.screen !== screen;
  $('topbar-conference').hidden = state !== 'conference';
}

const ERRORS = {
  no_such_conference: ['Meeting not found', (c) => `There is no meeting called “${c}”. Check the link or the name.`],
  conference_full: ['This meeting is full', () => 'The meeting has reached its participant limit. Try again later.'],
  capacity: ['The server is busy', () => 'This server cannot take another participant right now without slowing everyone down. Try again in a few seconds.'],
  too_many_attempts: ['Too many attempts', () => 'Too many wrong PINs were entered for this meeting. Wait a minute, then try again.'],
  conference_locked: ['This meeting is locked', () => 'A host has locked the meeting. Ask them to unlock it.'],
  server_unreachable: ['Cannot reach the server', () => 'Tessera did not answer. Check your connection and try again.'],
  media_denied: ['Camera or microphone blocked', () => 'Allow access to your camera and microphone in the browser’s site settings, then try again.'],
  no_devices: ['No camera or microphone', () => 'No camera or microphone was found. Connect one and try again.'],
  media_unavailable: ['Video is not available', () => 'This server cannot carry audio and video yet.'],
  no_common_codec: ['Browser not supported', (c, m) => `Your browser and the server share no codec. ${m || ''}`],
  bad_sdp: ['Browser not supported', (c, m) => `The server could not read your browser’s offer. ${m || ''}`],
  kicked: ['You were removed', () => 'A host removed you from the meeting.'],
  ended: ['The meeting has ended', () => 'Everyone has left.'],
  connection_lost: ['Connection lost', () => 'The connection to the meeting was lost.'],
  left: ['You left the meeting', () => 'Rejoin whenever you are ready.'],
};

function showError(code, message) {
  const entry = ERRORS[code] || ['Something went wrong', (c, m) => m || 'Please try again.'];
  tessera.error = { code, message: message || null };
  $('error-title').textContent = entry[0];
  $('error-message').textContent = entry[1](tessera.conference || '', message);
  document.querySelector('[data-screen="error"]').dataset.error = code;
  $('error-icon').textContent = code === 'left' ? '✓' : '!';
  $('error-icon').className = code === 'left' ? 'card-icon' : 'card-icon warn';
  $('btn-retry').textContent = code === 'left' || code === 'ended' || code === 'kicked' ? 'Rejoin' : 'Try again';
  show(code === 'left' ? 'left' : 'error');
}

function toast(text) {
  const t = $('toast');
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 2500);
}

/* ---------- devices and preview ---------- */

function conferenceFromUrl() {
  const q = new URLSearchParams(location.search).get('conference');
  if (q) return q;
  const m = location.pathname.match(/^\/c\/([A-Za-z0-9._-]+)$/);
  return m ? decodeURIComponent(m[1]) : '';
}

function startPreview() {
  previewReady = openPreview();
  return previewReady;
}

/* Resolves to null, or an error code for showError(). */
async function openPreview() {
  stopPreview();
  const cam = $('camera-select').value;
  const mic = $('mic-select').value;
  const constraints = {
    video: cam ? { deviceId: { exact: cam }, width: { ideal: 1280 }, height: { ideal: 720 } }
               : { width: { ideal: 1280 }, height: { ideal: 720 } },
    audio: mic ? { deviceId: { exact: mic }, echoCancellation: true, noiseSuppression: true }
               : { echoCancellation: true, noiseSuppression: true },
  };
  try {
    localStream = await navigator.mediaDevices.getUserMedia(constraints);
  } catch (e) {
    localStream = null;
    $('preview-empty-text').textContent = 'Camera and microphone are not available';
    return e.name === 'NotFoundError' || e.name === 'OverconstrainedError' ? 'no_devices' : 'media_denied';
  }
  $('preview').srcObject = localStream;
  $('preview').parentElement.classList.add('live');
  await fillDeviceLists();
  meterStop = startMeter(localStream);
  return null;
}

function stopPreview() {
  if (meterStop) meterStop();
  meterStop = null;
  if (localStream) for (const t of localStream.getTracks()) t.stop();
  localStream = null;
  $('preview').parentElement.classList.remove('live');
}

async function fillDeviceLists() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const fill = (select, kind, track) => {
    const current = track ? track.getSettings().deviceId : select.value;
    select.textContent = '';
    devices.filter((d) => d.kind === kind).forEach((d, i) => {
      const o = document.createElement('option');
      o.value = d.deviceId;
      o.textContent = d.label || `${kind === 'videoinput' ? 'Camera' : 'Microphone'} ${i + 1}`;
      o.selected = d.deviceId === current;
      select.appendChild(o);
    });
  };
  fill($('camera-select'), 'videoinput', localStream && localStream.getVideoTracks()[0]);
  fill($('mic-select'), 'audioinput', localStream && localStream.getAudioTracks()[0]);
}

/* A small level meter so people see their microphone works before joining. */
function startMeter(stream) {
  if (!stream.getAudioTracks().length || !window.AudioContext) return null;
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 512;
  ctx.createMediaStreamSource(stream).connect(analyser);
  const buf = new Uint8Array(analyser.fftSize);
  let raf = 0;
  const tick = () => {
    analyser.getByteTimeDomainData(buf);
    let peak = 0;
    for (const v of buf) peak = Math.max(peak, Math.abs(v - 128));
    $('mic-meter').style.width = `${Math.min(100, (peak / 128) * 180)}%`;
    raf = requestAnimationFrame(tick);
  };
  tick();
  return () => { cancelAnimationFrame(raf); ctx.close(); };
}

/* ---------- API ---------- */

async function api(method, path, body, auth = true) {
  const headers = { 'Content-Type': 'application/json' };
  if (auth && token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(API + path, { method, headers, body: body ? JSON.stringify(body) : undefined,
                                    keepalive: path.endsWith('/leave') });
  } catch (e) {
    return { status: 0, data: { error: 'server_unreachable', message: String(e) } };
  }
  let data = null;
  if (res.status !== 204) {
    try { data = await res.json(); } catch (e) { data = { error: 'bad_response', message: `HTTP ${res.status}` }; }
  }
  return { status: res.status, data };
}

/* ---------- joining ---------- */

async function join(pin, rejoining = false) {
  lastPin = pin;
  const alias = $('conference').value.trim();
  const name = $('display-name').value.trim();
  if (!alias || !name) return;
  tessera.conference = alias;
  localStorage.setItem('tessera.name', name);
  history.replaceState(null, '', `/c/${encodeURIComponent(alias)}`);
  $('connecting-name').textContent = alias;
  if (!rejoining) {
    $('connecting-step').textContent = 'Starting camera and microphone';
    show('connecting');
  }

  const err = await (localStream ? null : previewReady || startPreview());
  if (err || !localStream) return showError(err || 'media_denied');
  $('connecting-step').textContent = 'Contacting the server';
  // The server's [webrtc] turn_servers (STUN/TURN for networks that need a relay).
  const server = await api('GET', '/status', null, false);
  const iceServers = (server.status === 200 && server.data && server.data.ice_servers) || [];
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require', iceServers });
  tessera.iceServers = iceServers;
  tessera.pc = pc;
  pendingCandidates = [];
  pc.onicecandidate = (ev) => sendCandidate(ev.candidate);
  pc.ontrack = onTrack;
  pc.onconnectionstatechange = () => onConnectionState(pc);
  for (const track of localStream.getTracks()) pc.addTransceiver(track, { direction: 'sendrecv', streams: [localStream] });
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);

  const body = { display_name: name, sdp: pc.localDescription.sdp };
  if (pin) body.pin = pin;
  const { status, data } = await api('POST', `/conferences/${encodeURIComponent(alias)}/join`, body, false);
  if (status !== 200 && rejoining && retryable(status, data)) {
    closePeer();
    return scheduleRejoin();
  }
  if (status !== 200) return joinFailed(status, data);
  rejoinAttempt = 0;

  token = data.token;
  tessera.token = token; // for tests and tools that call the API as this participant
  tessera.participantId = data.participant_id;
  tessera.role = data.role;
  applyConference(data.conference);
  $('connecting-step').textContent = 'Connecting media';
  try {
    await pc.setRemoteDescription({ type: 'answer', sdp: data.sdp });
  } catch (e) {
    await leaveOnServer();
    closePeer();
    return showError('bad_sdp', e.message);
  }
  for (const c of pendingCandidates.splice(0)) postCandidate(c);
  eventFailures = 0;
  startEvents();
  refreshTimer = setInterval(refresh, Math.max(5, (data.expires_in || 120) / 3) * 1000);
  enterConference();
}

/* ---------- losing the connection ---------- */
// A server restart, a network change or a dead transport ends the call; the client
// comes back by itself with a fresh join (camera and microphone kept), backing off
// 1, 2, 4, 8, then 15 s, for about two minutes, and says so on screen meanwhile. A
// kick, a leave or a conference that no longer admits us is final. (No ICE restart
// first: the server keeps no state for a dead call that a restart could resume.)
const REJOIN_DELAYS_S = [1, 2, 4, 8, 15, 15, 15, 15, 15, 15, 15];
let rejoinAttempt = 0;
let lastPin = null;

/* A network change (or a blip) first gets an ICE restart on the same transport:
 * the same participant, DTLS session and streams over a new path. Only when that
 * fails does the client leave and join afresh (connectionLost). */
const ICE_RESTART_AFTER_MS = 3000; // 'disconnected' this long: restart ICE
const ICE_RESTART_WAIT_MS = 12000; // a restart not connected by then: join afresh
let iceRestartTimer = null;
let iceRestartTried = false;

function onConnectionState(pc) {
  if (pc !== tessera.pc || tessera.state !== 'conference') return;
  const s = pc.connectionState;
  if (s === 'connected') {
    clearTimeout(iceRestartTimer);
    iceRestartTimer = null;
    iceRestartTried = false;
  } else if (s === 'disconnected' && !iceRestartTimer && !iceRestartTried) {
    iceRestartTimer = setTimeout(() => restartIce(pc), ICE_RESTART_AFTER_MS);
  } else if (s === 'failed') {
    if (iceRestartTried) connectionLost();
    else restartIce(pc);
  }
}

async function restartIce(pc) {
  iceRestartTimer = null;
  if (pc !== tessera.pc || tessera.state !== 'conference' || pc.connectionState === 'connected' || iceRestartTried) return;
  iceRestartTried = true;
  tessera.iceRestarts = (tessera.iceRestarts || 0) + 1;
  toast('Network changed: reconnecting the media…');
  try {
    await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
    const { status, data } = await api('POST', `/participants/${tessera.participantId}/sdp`, { sdp: pc.localDescription.sdp });
    if (status !== 200 || !data || !data.sdp) throw new Error((data && data.message) || `HTTP ${status}`);
    await pc.setRemoteDescription({ type: 'answer', sdp: data.sdp });
  } catch (e) {
    console.warn('ICE restart failed:', e.message);
    connectionLost();
    return;
  }
  setTimeout(() => {
    if (pc === tessera.pc && tessera.state === 'conference' && pc.connectionState !== 'connected') connectionLost();
  }, ICE_RESTART_WAIT_MS);
}

function connectionLost() {
  if (tessera.state !== 'conference') return;
  hangup(false);
  scheduleRejoin();
}

function scheduleRejoin() {
  if (rejoinAttempt >= REJOIN_DELAYS_S.length) {
    rejoinAttempt = 0;
    return showError('connection_lost');
  }
  const delay = REJOIN_DELAYS_S[rejoinAttempt++];
  tessera.rejoins = (tessera.rejoins || 0) + 1;
  $('connecting-name').textContent = tessera.conference;
  $('connecting-step').textContent = `Connection lost. Reconnecting (attempt ${rejoinAttempt})…`;
  show('reconnecting');
  document.querySelector('[data-screen="connecting"]').hidden = false; // the same card
  setTimeout(() => { if (tessera.state === 'reconnecting') join(lastPin, true); }, delay * 1000);
}

/* Whether a failed rejoin is worth another try: the server away or busy. */
function retryable(status, data) {
  const code = data && data.error;
  return status === 0 || status >= 500 || code === 'server_unreachable' || code === 'capacity';
}

function joinFailed(status, data) {
  closePeer();
  const code = (data && data.error) || 'server_unreachable';
  if (code === 'pin_required' || code === 'wrong_pin') {
    $('pin-error').hidden = code !== 'wrong_pin';
    $('pin-title').textContent = code === 'wrong_pin' ? 'Wrong PIN' : 'This meeting is protected';
    $('pin-message').textContent = 'Enter the PIN you were given for this meeting.';
    tessera.error = { code, message: data.message };
    document.querySelector('[data-screen="pin"]').dataset.error = code;
    $('pin').value = '';
    show('pin');
    $('pin').focus();
    return;
  }
  showError(code, data && data.message);
}

function sendCandidate(candidate) {
  if (!candidate) candidate = { candidate: '', sdpMid: null, sdpMLineIndex: null };
  if (!tessera.participantId) pendingCandidates.push(candidate);
  else postCandidate(candidate);
}

function postCandidate(c) {
  api('POST', `/participants/${tessera.participantId}/candidates`,
      { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex });
}

function onTrack(ev) {
  const stream = ev.streams[0] || new MediaStream([ev.track]);
  if (ev.track.kind === 'video') {
    const v = $('remote-video');
    v.srcObject = stream;
    v.onloadeddata = () => { videoLoaded = true; updateStage(); };
  } else {
    $('remote-audio').srcObject = stream;
  }
}

async function refresh() {
  const { status, data } = await api('POST', `/participants/${tessera.participantId}/refresh`);
  if (status === 401 || status === 404) connectionLost();
  else if (status === 200 && data && data.token) {
    token = data.token; // each refresh hands out a new token; the old one soon lapses
    tessera.token = token;
  }
}

/* ---------- in the conference ---------- */

function enterConference() {
  $('self-view').srcObject = localStream;
  videoLoaded = $('remote-video').readyState >= 2; // it may already play
  updateStage();
  $('topbar-name').textContent = tessera.conference;
  $('topbar-role').textContent = tessera.role;
  $('host-tools').hidden = tessera.role !== 'host';
  setMic(false);
  setCam(false);
  show('conference');
}

function applyConference(c) {
  if (!c) return;
  tessera.layout = c.layout;
  tessera.locked = !!c.locked;
  tessera.selfView = !!c.self_view;
  $('self-view-toggle').checked = tessera.selfView;
  if (c.participants) {
    tessera.roster = c.participants;
    const pr = c.participants.find((x) => x.is_presenting); // a late joiner learns it here
    setPresenter(pr ? { participant_id: pr.id, display_name: pr.display_name } : null);
  }
  if (c.talkers) tessera.talkers = c.talkers;
  $('layout-picker').value = c.layout;
  $('lock-toggle').checked = tessera.locked;
  $('topbar-locked').hidden = !tessera.locked;
  if ('recording' in c) tessera.recording = c.recording;
  if (c.streams) tessera.streams = c.streams;
  renderOutputs();
  renderRoster();
}

/* The indicators everyone sees, and the host's recording and stream controls. */
function renderOutputs() {
  const rec = tessera.recording;
  $('recording-indicator').hidden = !rec;
  $('recording-indicator').textContent = rec && rec.state === 'starting' ? '● Recording…' : '● Recording';
  $('streaming-indicator').hidden = tessera.streams.length === 0;
  const reconnecting = tessera.streams.some((s) => s.state === 'reconnecting');
  $('streaming-indicator').textContent = reconnecting ? '● Live (reconnecting)' : '● Live';
  $('btn-record').textContent = rec ? 'Stop recording' : 'Start recording';
  const list = $('stream-list');
  list.textContent = '';
  for (const s of tessera.streams) {
    const li = document.createElement('li');
    li.dataset.testid = 'stream-item';
    const label = document.createElement('span');
    label.textContent = `${s.url} — ${s.state}${s.reason ? ` (${s.reason})` : ''}`;
    const stop = document.createElement('button');
    stop.className = 'btn ghost';
    stop.type = 'button';
    stop.textContent = 'Stop';
    stop.dataset.testid = 'btn-stream-stop';
    stop.addEventListener('click', () => confApi('DELETE', `/streams/${encodeURIComponent(s.id)}`));
    li.append(label, stop);
    list.append(li);
  }
}

/* A recording or stream event: the state list follows; a failure is told. */
function onOutput(kind, d) {
  tessera.outputEvents.push({ kind, ...d });
  if (kind === 'recording') {
    tessera.recording = d.active ? d : null;
  } else {
    tessera.streams = tessera.streams.filter((s) => s.id !== d.id);
    if (d.active) tessera.streams.push(d);
  }
  if (d.state === 'failed') toast(`${kind === 'recording' ? 'Recording' : 'Stream'} stopped: ${d.reason}`);
  renderOutputs();
}

async function confApi(method, rel, body) {
  const { status, data } = await api(method, `/conferences/${encodeURIComponent(tessera.conference)}${rel}`, body);
  if (status >= 400 && data) toast(data.message);
  return status;
}

function startEvents() {
  const url = `${API}/conferences/${encodeURIComponent(tessera.conference)}/events?token=${encodeURIComponent(token)}`;
  eventSource = new EventSource(url);
  eventSource.onopen = () => { eventFailures = 0; };
  eventSource.onerror = () => {
    if (tessera.state !== 'conference') return;
    if (++eventFailures >= 4) {
      connectionLost();
      return;
    }
    // The URL carries the token of when the stream opened, which a refresh has
    // since replaced: reopen with the current one (the snapshot restores state).
    const closed = eventSource;
    closed.close();
    setTimeout(() => {
      if (eventSource === closed && tessera.state === 'conference' && token) startEvents();
    }, 1000 * eventFailures);
  };
  const on = (name, fn) => eventSource.addEventListener(name, (ev) => {
    tessera.events.push(name);
    fn(JSON.parse(ev.data));
  });
  on('snapshot', applyConference);
  on('participant_joined', (p) => {
    tessera.roster = tessera.roster.filter((x) => x.id !== p.id).concat([p]);
    renderRoster();
  });
  on('participant_updated', (p) => {
    tessera.roster = tessera.roster.map((x) => (x.id === p.id ? p : x));
    if (p.id === tessera.participantId && p.by !== p.id) {
      // a host muted us: follow it locally so the button tells the truth
      if (p.muted !== micMuted) {
        setMic(p.muted);
        toast(p.muted ? 'A host muted your microphone' : 'A host unmuted your microphone');
      }
      if (p.video_muted !== camOff) {
        setCam(p.video_muted);
        toast(p.video_muted ? 'A host turned your camera off' : 'A host turned your camera on');
      }
    }
    renderRoster();
  });
  on('participant_left', (p) => {
    if (p.id === tessera.participantId) {
      if (p.reason === 'kicked' || p.reason === 'left') {
        hangup(false);
        showError(p.reason);
      } else {
        connectionLost(); // media failed, token expired, server shutting down: come back
      }
      return;
    }
    tessera.roster = tessera.roster.filter((x) => x.id !== p.id);
    renderRoster();
  });
  on('layout', (d) => { tessera.layout = d.layout; $('layout-picker').value = d.layout; });
  on('conference_updated', applyConference);
  on('talkers', (d) => { tessera.talkers = d.talkers; renderRoster(); });
  on('ended', () => { hangup(false); showError('ended'); });
  on('recording', (d) => onOutput('recording', d));
  on('stream', (d) => onOutput('stream', d));
  on('presentation_start', setPresenter);
  on('presentation_stop', onPresentationStop);
}

/* ---------- presentation (screen share) ---------- */

/* The screen goes up on a second transport of its own (one sendonly video), so the
 * camera's session is never renegotiated; the server shows it large to everyone. */
async function startShare() {
  let screen;
  try {
    screen = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 15 }, audio: false });
  } catch (e) {
    toast('Screen sharing was not started');
    return;
  }
  const track = screen.getVideoTracks()[0];
  if ('contentHint' in track) track.contentHint = 'detail'; // keep text sharp: resolution over frame rate
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require', iceServers: tessera.iceServers || [] });
  const pending = [];
  let answered = false;
  const post = (c) => api('POST', `/participants/${tessera.participantId}/presentation/candidates`,
                          { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex });
  pc.onicecandidate = (ev) => {
    const c = ev.candidate || { candidate: '', sdpMid: null, sdpMLineIndex: null };
    if (answered) post(c); else pending.push(c);
  };
  pc.addTransceiver(track, { direction: 'sendonly', streams: [screen] });
  // The browser's own "Stop sharing" ends the track: stop here too.
  track.addEventListener('ended', () => { if (tessera.sharePc === pc) stopShare(true); });
  tessera.sharePc = pc;
  await pc.setLocalDescription(await pc.createOffer());
  const { status, data } = await api('POST', `/participants/${tessera.participantId}/presentation`, { sdp: pc.localDescription.sdp });
  if (status !== 200 || tessera.sharePc !== pc) {
    if (tessera.sharePc === pc) tessera.sharePc = null;
    pc.close();
    screen.getTracks().forEach((t) => t.stop());
    if (status !== 200) toast(`Could not share: ${(data && data.message) || status}`);
    return;
  }
  await pc.setRemoteDescription({ type: 'answer', sdp: data.sdp });
  answered = true;
  for (const c of pending.splice(0)) post(c);
  setSharing(true);
}

/* Local teardown; `tellServer` unless the server ended it (taken over, left). */
function stopShare(tellServer) {
  const pc = tessera.sharePc;
  tessera.sharePc = null;
  if (pc) {
    for (const t of pc.getSenders()) if (t.track) t.track.stop();
    pc.close();
  }
  if (tellServer && tessera.participantId) api('DELETE', `/participants/${tessera.participantId}/presentation`);
  setSharing(false);
}

function setSharing(on) {
  tessera.sharing = on;
  $('btn-share').setAttribute('aria-pressed', String(on));
  $('btn-share-label').textContent = on ? 'Stop sharing' : 'Share';
  $('btn-share').title = on ? 'Stop sharing your screen' : 'Share your screen';
}

function setPresenter(pr) {
  tessera.presenter = pr;
  const banner = $('presenting-banner');
  banner.hidden = !pr;
  if (pr) banner.textContent = pr.participant_id === tessera.participantId
    ? 'You are presenting' : `${pr.display_name} is presenting`;
}

function onPresentationStop(d) {
  if (tessera.presenter && tessera.presenter.participant_id === d.participant_id) setPresenter(null);
  if (d.participant_id === tessera.participantId && tessera.sharing) {
    stopShare(false);
    if (d.reason === 'taken_over') toast('Someone else started presenting');
  }
}

function initials(name) {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join('') || '?';
}

function colourFor(id) {
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return `hsl(${h} 55% 45%)`;
}

function svgIcon(name, cls, testid, title) {
  const t = title ? `<title>${title}</title>` : '';
  return `<svg class="icon${cls ? ` ${cls}` : ''}" data-testid="${testid}">${t}<use href="#i-${name}"/></svg>`;
}

/* Talking, pinned, microphone and camera: what everyone sees of everyone. */
function stateIcons(p) {
  return svgIcon('talk', 'talk', 'talking-indicator', 'Talking') +
    (p.spotlight ? svgIcon('pin', 'pin', 'spotlight-indicator', 'Spotlighted') : '') +
    (p.muted ? svgIcon('mic-off', 'red', 'mic-indicator', 'Microphone muted') : svgIcon('mic', '', 'mic-indicator', 'Microphone on')) +
    (p.video_muted ? svgIcon('cam-off', 'red', 'cam-indicator', 'Camera off') : svgIcon('cam', '', 'cam-indicator', 'Camera on'));
}

function hostButton(label, testid, onclick) {
  const b = document.createElement('button');
  b.className = 'host-act';
  b.type = 'button';
  b.dataset.testid = testid;
  b.textContent = label;
  b.onclick = onclick;
  return b;
}

/* A host's menu for one roster entry. Spotlight works on the host itself too. */
function hostActions(p) {
  const acts = document.createElement('div');
  acts.className = 'acts';
  acts.append(hostButton(p.spotlight ? 'Remove spotlight' : 'Spotlight', 'btn-spotlight',
    () => api('POST', `/participants/${p.id}/spotlight`, { on: !p.spotlight })));
  if (p.id !== tessera.participantId) {
    acts.append(hostButton(p.muted ? 'Unmute' : 'Mute', 'btn-mute',
      () => api('POST', `/participants/${p.id}/mute`, { muted: !p.muted })));
    acts.append(hostButton('Remove', 'btn-kick', () => api('DELETE', `/participants/${p.id}`)));
  }
  return acts;
}

/* One overlay at a time: "first one here" when alone, else a spinner until video plays. */
function updateStage() {
  const alone = tessera.roster.length === 1;
  $('stage-alone').hidden = !alone;
  $('stage-wait').hidden = alone || videoLoaded;
}

function renderRoster() {
  const ul = $('roster');
  ul.textContent = '';
  $('roster-count').textContent = String(tessera.roster.length);
  updateStage();
  for (const p of tessera.roster) {
    const li = document.createElement('li');
    li.dataset.testid = 'roster-item';
    li.dataset.participantId = p.id;
    li.classList.toggle('talking', tessera.talkers.includes(p.id));
    li.classList.toggle('spotlight', !!p.spotlight);
    li.dataset.talking = String(tessera.talkers.includes(p.id));
    li.dataset.muted = String(!!p.muted);
    li.dataset.videoMuted = String(!!p.video_muted);
    li.dataset.spotlight = String(!!p.spotlight);
    const av = document.createElement('div');
    av.className = 'avatar';
    av.style.background = colourFor(p.id);
    av.textContent = initials(p.display_name);
    const who = document.createElement('div');
    who.className = 'who';
    const nm = document.createElement('div');
    nm.className = 'name';
    nm.textContent = p.display_name + (p.id === tessera.participantId ? ' (you)' : '');
    const meta = document.createElement('div');
    meta.className = 'meta';
    meta.textContent = (p.role === 'host' ? 'Host' : 'Guest') + (p.has_media ? '' : ' · no audio or video');
    who.append(nm, meta);
    const st = document.createElement('div');
    st.className = 'state';
    st.innerHTML = stateIcons(p);
    li.append(av, who, st);
    if (tessera.role === 'host') who.append(hostActions(p));
    ul.appendChild(li);
  }
}

function setMic(muted) {
  micMuted = muted;
  if (localStream) for (const t of localStream.getAudioTracks()) t.enabled = !muted;
  $('btn-mic').setAttribute('aria-pressed', String(muted));
  $('btn-mic').title = muted ? 'Unmute microphone' : 'Mute microphone';
}

function setCam(off) {
  camOff = off;
  if (localStream) for (const t of localStream.getVideoTracks()) t.enabled = !off;
  $('btn-camera').setAttribute('aria-pressed', String(off));
  $('btn-camera').title = off ? 'Turn camera on' : 'Turn camera off';
  $('self-view').classList.toggle('off', off);
}

async function leaveOnServer() {
  if (tessera.participantId && token) await api('POST', `/participants/${tessera.participantId}/leave`);
}

function closePeer() {
  if (tessera.sharePc) stopShare(false);
  setPresenter(null);
  if (tessera.pc) tessera.pc.close();
  tessera.pc = null;
}

/* Tear down locally; tell the server unless it already told us we are gone. */
function hangup(tellServer) {
  if (tellServer) leaveOnServer();
  if (eventSource) eventSource.close();
  eventSource = null;
  clearInterval(refreshTimer);
  clearTimeout(iceRestartTimer);
  iceRestartTimer = null;
  iceRestartTried = false;
  closePeer();
  token = null;
  tessera.token = null;
  tessera.participantId = null;
  $('remote-video').srcObject = null;
  $('remote-audio').srcObject = null;
}

/* ---------- wiring ---------- */

function bind() {
  $('join-form').addEventListener('submit', (e) => { e.preventDefault(); join(null); });
  $('pin-form').addEventListener('submit', (e) => { e.preventDefault(); join($('pin').value.trim()); });
  for (const b of document.querySelectorAll('[data-action="back"]')) {
    b.addEventListener('click', () => { show('join'); if (!localStream) startPreview(); });
  }
  $('btn-retry').addEventListener('click', () => {
    if (tessera.error && ['media_denied', 'no_devices'].includes(tessera.error.code)) {
      show('join');
      startPreview();
    } else {
      join(null);
    }
  });
  $('camera-select').addEventListener('change', startPreview);
  $('mic-select').addEventListener('change', startPreview);
  $('btn-mic').addEventListener('click', () => {
    setMic(!micMuted);
    api('POST', `/participants/${tessera.participantId}/mute`, { muted: micMuted });
  });
  $('btn-camera').addEventListener('click', () => {
    setCam(!camOff);
    api('POST', `/participants/${tessera.participantId}/video_mute`, { muted: camOff });
  });
  for (const b of document.querySelectorAll('[data-action="toggle-panel"]')) {
    b.addEventListener('click', () => { $('panel').hidden = !$('panel').hidden; });
  }
  $('layout-picker').addEventListener('change', async (e) => {
    const { status, data } = await api('POST', `/conferences/${encodeURIComponent(tessera.conference)}/layout`, { layout: e.target.value });
    if (status !== 200) toast(data.message);
  });
  $('self-view-toggle').addEventListener('change', async (e) => {
    const { status, data } = await api('POST', `/conferences/${encodeURIComponent(tessera.conference)}/self_view`, { self_view: e.target.checked });
    if (status !== 200) { toast(data.message); e.target.checked = tessera.selfView; }
  });
  $('lock-toggle').addEventListener('change', async (e) => {
    const { status, data } = await api('POST', `/conferences/${encodeURIComponent(tessera.conference)}/lock`, { locked: e.target.checked });
    if (status !== 200) toast(data.message);
  });
  $('btn-record').addEventListener('click', () => confApi('POST', '/recording', { action: tessera.recording ? 'stop' : 'start' }));
  $('stream-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    if (await confApi('POST', '/streams', { url: $('stream-url').value.trim() }) === 201) $('stream-url').value = '';
  });
  for (const b of document.querySelectorAll('[data-action="invite"]')) b.addEventListener('click', copyInvite);
  $('btn-share').addEventListener('click', () => (tessera.sharing || tessera.sharePc ? stopShare(true) : startShare()));
  $('btn-share').hidden = !(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
  $('btn-hangup').addEventListener('click', () => { hangup(true); showError('left'); });
  window.addEventListener('pagehide', () => { if (tessera.participantId) leaveOnServer(); });
}

async function copyInvite() {
  const link = `${location.origin}/c/${encodeURIComponent(tessera.conference)}`;
  try {
    await navigator.clipboard.writeText(link);
    toast('Invite link copied');
  } catch (e) {
    toast(link); // no clipboard permission: show it so it can be copied by hand
  }
}

function init() {
  bind();
  $('conference').value = conferenceFromUrl();
  $('display-name').value = localStorage.getItem('tessera.name') || '';
  (($('conference').value && !$('display-name').value) ? $('display-name') : $('conference')).focus();
  show('join');
  if (!navigator.mediaDevices || !window.RTCPeerConnection) {
    showError('no_devices', 'This browser cannot do video calls here (HTTPS is needed except on localhost).');
    return;
  }
  startPreview().then((err) => { if (err) $('preview-empty-text').textContent = ERRORS[err][1](); });
}

document.addEventListener('DOMContentLoaded', init);
