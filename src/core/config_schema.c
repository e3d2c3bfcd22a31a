/* The configuration schema: every key Tessera reads, its type, range, default
 * and why. config/tessera.conf must agree with this table (tests/unit/test_config.c). */
#include <tessera/config.h>

#include <stddef.h>

#define STR_KEY(sec, name, field, dflt, why)                                                       \
    {                                                                                              \
        sec, name, TSR_CONFIG_STRING, offsetof(struct tsr_config, field),                          \
            sizeof(((struct tsr_config *)0)->field), 0, 0, NULL, dflt, why                         \
    }
#define ENUM_KEY(sec, name, field, allowed_, dflt, why)                                            \
    {                                                                                              \
        sec, name, TSR_CONFIG_ENUM, offsetof(struct tsr_config, field),                            \
            sizeof(((struct tsr_config *)0)->field), 0, 0, allowed_, dflt, why                     \
    }
#define HOSTPORT_KEY(sec, name, field, dflt, why)                                                  \
    {                                                                                              \
        sec, name, TSR_CONFIG_HOSTPORT, offsetof(struct tsr_config, field),                        \
            sizeof(((struct tsr_config *)0)->field), 0, 0, NULL, dflt, why                         \
    }
#define INT_KEY(sec, name, field, lo, hi, dflt, why)                                               \
    {                                                                                              \
        sec, name, TSR_CONFIG_INT, offsetof(struct tsr_config, field),                             \
            sizeof(((struct tsr_config *)0)->field), lo, hi, NULL, dflt, why                       \
    }
#define BOOL_KEY(sec, name, field, dflt, why)                                                      \
    {                                                                                              \
        sec, name, TSR_CONFIG_BOOL, offsetof(struct tsr_config, field),                            \
            sizeof(((struct tsr_config *)0)->field), 0, 1, NULL, dflt, why                         \
    }

static const struct tsr_config_key schema[] = {
    HOSTPORT_KEY("server", "listen", listen, "0.0.0.0:8080",
                 "HTTP address for the API, the web client, /healthz and /metrics."),
    STR_KEY("server", "web_root", web_root, "",
            "Directory of the web client served at /; empty means web/ in the source tree."),
    INT_KEY("server", "listen_backlog", listen_backlog, 16, 65535, "511",
            "Connections the kernel queues before Tessera accepts them (a burst of joins)."),
    INT_KEY("server", "max_connections", max_connections, 16, 1000000, "4096",
            "Open HTTP connections in total; more are answered 503 and closed."),
    INT_KEY("server", "max_connections_per_address", max_connections_per_address, 1, 1000000, "256",
            "Open HTTP connections from one client address (trusted proxies exempt)."),
    INT_KEY("server", "idle_timeout_s", idle_timeout_s, 1, 3600, "30",
            "A connection whose request or reply makes no progress this long is closed."),
    INT_KEY("server", "max_body_bytes", max_body_bytes, 65536, 67108864, "1048576",
            "Request bodies larger than this are refused (413) before they are read; each API "
            "has its own smaller limit with its own error envelope."),
    INT_KEY("server", "max_header_bytes", max_header_bytes, 4096, 61440, "32768",
            "A request line and headers larger than this are refused (431, JSON envelope); "
            "libsoup itself drops requests with 64 KiB of headers unanswered."),
    STR_KEY("server", "trusted_proxies", trusted_proxies, "127.0.0.1, ::1",
            "Reverse proxies whose X-Forwarded-For names the client (PIN attempts, limits)."),
    ENUM_KEY("log", "level", log_level, "error|warn|info|debug|trace", "info",
             "info shows joins, leaves and errors; debug adds per-stream detail."),
    ENUM_KEY("media", "encoder", encoder, "auto|software|vaapi", "auto",
             "auto uses VAAPI when the start-up probe finds it working, else software."),
    STR_KEY("media", "vaapi_device", vaapi_device, "/dev/dri/renderD128",
            "DRM render node for VAAPI; a missing node means software encoding."),
    ENUM_KEY("media", "compositor", compositor, "auto|cpu|vulkan", "auto",
             "auto composes on the GPU (Vulkan compute) only on an integrated or discrete GPU; a "
             "CPU Vulkan driver (lavapipe) is slower than the SIMD CPU path, so auto skips it. "
             "vulkan takes any Vulkan device; a lost device falls back to the CPU."),
    INT_KEY("audio", "talkers", audio_talkers, 1, 16, "3",
            "Talkers mixed at once (K); only they are decoded; encoders = K + variants."),
    INT_KEY("audio", "hysteresis_db", audio_hysteresis_db, 0, 60, "6",
            "A newcomer must be this much louder than the quietest talker to replace it."),
    INT_KEY("audio", "hold_ms", audio_hold_ms, 0, 10000, "600",
            "A talker keeps its slot through pauses this long and for at least this long."),
    INT_KEY("audio", "active_level", audio_active_level, 0, 127, "50",
            "RFC 6464 level (-dBov): inputs this loud or louder (smaller) count as talking."),
    INT_KEY("audio", "bitrate_bps", audio_bitrate_bps, 6000, 510000, "32000",
            "Default Opus output bitrate; 32 kb/s is transparent for wideband speech."),
    INT_KEY("audio", "channels", audio_channels, 1, 2, "1",
            "Default output channels; the mix is mono, 2 duplicates it for stereo-only clients."),
    BOOL_KEY("audio", "fec", audio_fec, "true",
             "In-band FEC in the output so receivers recover single lost packets."),
    INT_KEY("audio", "red_distance", audio_red_distance, 0, 2, "2",
            "RED (RFC 2198) with browsers that offer it: each Opus packet sent repeats this "
            "many earlier ones, so a loss is filled from the next packet; 0 = off."),
    BOOL_KEY("audio", "dtx", audio_dtx, "false",
             "Discontinuous transmission in silence; off because some clients mishandle gaps."),
    BOOL_KEY("audio", "client_dtx", audio_client_dtx, "true",
             "Ask WebRTC clients for DTX (usedtx=1): in silence a browser sends one packet "
             "per 400 ms instead of 50 per second, which the mixer takes as silence."),
    INT_KEY("audio", "complexity", audio_complexity, 0, 10, "5",
            "Opus encoder complexity; 5 costs about half of 10 for little audible loss."),
    INT_KEY("audio", "jitter_min_ms", audio_jitter_min_ms, 0, 200, "20",
            "Least delay of each participant's adaptive audio buffer (reorder and jitter)."),
    INT_KEY("audio", "jitter_max_ms", audio_jitter_max_ms, 20, 1000, "200",
            "Most delay it may grow to; older packets are dropped beyond it."),
    INT_KEY("webrtc", "rtp_port_min", webrtc_port_min, 1024, 65535, "40000",
            "Lowest UDP port for media (one port per participant); open this range in firewalls."),
    INT_KEY("webrtc", "rtp_port_max", webrtc_port_max, 1024, 65535, "40999",
            "Highest UDP port for media; the range bounds how many participants fit."),
    STR_KEY("webrtc", "public_address", webrtc_public_address, "",
            "1:1 NAT: the public IP advertised in ICE host candidates; empty = the local address."),
    STR_KEY("webrtc", "stun_server", webrtc_stun_server, "",
            "host:port of a STUN server; set = full ICE, empty = ICE-lite (server on a public IP). "
            "A name is looked up asynchronously at start and again every 5 minutes."),
    STR_KEY("webrtc", "certificate", webrtc_certificate, "",
            "PEM DTLS certificate; empty = an ECDSA P-256 self-signed one made at start."),
    STR_KEY("webrtc", "private_key", webrtc_private_key, "",
            "PEM private key for certificate; set both or neither."),
    ENUM_KEY("webrtc", "video_codec", webrtc_video_codec, "vp8|h264", "h264",
             "Preferred video codec when the browser offers both; the other is the fallback. "
             "H.264 (x264) encodes the composite in 0.7x VP8's CPU time (bench_video_encoder)."),
    STR_KEY("webrtc", "media_addresses", webrtc_media_addresses, "",
            "IP addresses (comma-separated) whose ICE candidates the answers carry; empty = "
            "every interface, plus loopback when [server] listen is a loopback address."),
    BOOL_KEY("webrtc", "ice_tcp", webrtc_ice_tcp, "true",
             "Also offer passive ICE-TCP candidates (RFC 6544) in the rtp_port range, so clients "
             "whose UDP is blocked still connect; open that TCP range too."),
    STR_KEY("webrtc", "turn_servers", webrtc_turn_servers, "",
            "ICE servers handed to clients (web client, Pexip and inLive answers), comma-"
            "separated, each 'URL' or 'URL username credential' (turn:host:3478?transport=udp)."),
    BOOL_KEY("conferences", "allow_adhoc", allow_adhoc, "true",
             "A join to an unknown alias creates the conference; false admits only defined ones."),
    INT_KEY("conferences", "empty_timeout_s", empty_timeout_s, 0, 86400, "60",
            "An empty conference lingers this long so a dropped caller can rejoin its state."),
    INT_KEY("conferences", "token_ttl_s", token_ttl_s, 10, 3600, "120",
            "A participant whose client stops refreshing its token is removed after this."),
    INT_KEY("conferences", "max_participants", max_participants, 1, 1000, "25",
            "Limit for ad-hoc conferences; defined ones set their own."),
    ENUM_KEY("conferences", "default_layout", default_layout,
             "grid|four|single|speaker|1:21|2:21|presentation", "grid",
             "Layout a new conference starts with; hosts can change it."),
    /* Predefined conferences live in a JSON file rather than in sections of this file:
     * the schema is flat (fixed sections and keys), and a list of rooms, each with
     * PINs, layout and limit, is data, not settings. See config/conferences.example.json. */
    STR_KEY("conferences", "file", conferences_file, "",
            "JSON file of predefined conferences (alias, name, PINs, layout, limit); empty: none."),
    INT_KEY("inlive", "max_rooms", inlive_max_rooms, 1, 1000000, "1000",
            "inLive API rooms at once; rooms/create past it is refused (503 too_many_rooms)."),
    INT_KEY("inlive", "max_room_metadata_bytes", inlive_max_room_metadata_bytes, 1024, 16777216,
            "16384",
            "Metadata one inLive room holds (keys + values as compact JSON + 64 per key); a "
            "setmeta past it is refused whole (413 metadata_too_large)."),
    INT_KEY("inlive", "max_empty_room_timeout_s", inlive_max_empty_room_timeout_s, 1, 604800,
            "3600",
            "Longest empty_room_timeout_ns a room may ask for; longer ones are cut to this (the "
            "room's options say so)."),
    BOOL_KEY("inlive", "open_metadata", inlive_open_metadata, "false",
             "true lets anyone who knows a room id set and delete its metadata, as inLive's "
             "hub does (the JS SDK's setMetadata sends no Authorization); false asks for the "
             "room's credential, as for ending it."),
    INT_KEY("mixer", "canvas_width", mixer_canvas_width, 64, 3840, "1280",
            "Width of the composed picture every participant receives (even)."),
    INT_KEY("mixer", "canvas_height", mixer_canvas_height, 36, 2160, "720",
            "Height of the composed picture (even); 720p suits most screens."),
    INT_KEY("mixer", "fps", mixer_fps, 5, 60, "30",
            "Composed frames per second while something moves (at least 5 when still)."),
    INT_KEY("mixer", "video_bitrate_bps", mixer_video_bitrate_bps, 100000, 20000000, "1500000",
            "Target bitrate of each composed stream; 1.5 Mb/s is clean 720p30 for talking heads."),
    INT_KEY("mixer", "gap_px", mixer_gap_px, 0, 64, "4",
            "Pixels between tiles, so adjacent cameras stay visually apart."),
    INT_KEY("mixer", "personal_view_min_tile_pct", mixer_personal_view_min_tile_pct, 0, 100, "5",
            "A participant whose tile covers at least this % of the canvas gets a view without "
            "itself (one encoder each); smaller tiles (strips, 5x5 grids) see the shared view, "
            "self included. 0 = everyone shown gets a personal view."),
    INT_KEY("mixer", "keyframe_min_interval_ms", mixer_keyframe_min_interval_ms, 100, 10000, "1000",
            "Merged keyframe requests: one receiver cannot force keyframes more often."),
    INT_KEY("mixer", "consent_timeout_s", mixer_consent_timeout_s, 5, 600, "30",
            "A participant whose ICE consent fails this long is removed."),
    INT_KEY("mixer", "media_timeout_s", mixer_media_timeout_s, 0, 600, "5",
            "A participant with no packets this long shows as a \"reconnecting\" placeholder "
            "instead of its frozen picture (removed at consent_timeout_s); 0 = never."),
    INT_KEY("mixer", "net_threads", mixer_net_threads, 0, 64, "0",
            "Threads running ICE/DTLS/SRTP/RTP and decoding; 0 = one per CPU core."),
    INT_KEY("mixer", "max_participants", mixer_max_participants, 0, 100000, "0",
            "Server-wide cap on participants with media (all conferences); joins past it get "
            "503 capacity; 0 = no cap."),
    INT_KEY("mixer", "max_load_percent", mixer_max_load_percent, 0, 100, "80",
            "Refuse joins with media while composing+encoding keeps more than this % of the "
            "usable cores busy; 0 = off."),
    BOOL_KEY("layout", "names", layout_names, "true",
             "Each tile carries its participant's name in a band along its bottom edge; a "
             "camera-off tile shows initials and a muted microphone a red mark."),
    STR_KEY("layout", "font", layout_font, "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
            "TrueType/OpenType font of the names (Debian fonts-dejavu-core: Latin, Greek, "
            "Cyrillic, Hebrew, Arabic)."),
    STR_KEY(
        "layout", "font_fallback", layout_font_fallback,
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
        "Font for the characters `font` lacks (Debian fonts-droid-fallback: CJK); empty: none."),
    BOOL_KEY("layout", "speaker_border", layout_speaker_border, "true",
             "The current speaker's tile gets an amber border."),
    STR_KEY("recording", "dir", recording_dir, "recordings",
            "Directory of recordings (created when missing), one Matroska file per recording "
            "named <alias>-<UTC start>.mkv; empty: recording disabled."),
    ENUM_KEY("recording", "video_codec", recording_video_codec, "h264|vp8", "h264",
             "Codec of the recorded shared view; the recorder takes the packets of the common "
             "view's encoder of that codec when one runs."),
    INT_KEY("streaming", "audio_bitrate_bps", streaming_audio_bitrate_bps, 32000, 320000, "128000",
            "AAC bitrate of RTMP streams (FLV carries AAC; the mix is re-encoded)."),
    INT_KEY("streaming", "connect_timeout_s", streaming_connect_timeout_s, 1, 60, "10",
            "An RTMP server that does not answer a connect or a write this long is unreachable."),
    INT_KEY("streaming", "retry_max_s", streaming_retry_max_s, 1, 300, "30",
            "A dropped stream reconnects after 1 s, doubling up to this."),
    INT_KEY("streaming", "reconnect_timeout_s", streaming_reconnect_timeout_s, 5, 86400, "300",
            "A stream whose server stays away this long has failed and is stopped."),
    BOOL_KEY("sip", "enabled", sip_enabled, "true",
             "Answer SIP calls: sip:ALIAS@host joins conference ALIAS (room systems, "
             "softphones, SIP trunks and gateways)."),
    HOSTPORT_KEY("sip", "listen", sip_listen, "0.0.0.0:5060",
                 "Address and port of the SIP listener (UDP and/or TCP as transports says); "
                 "open it in firewalls together with the [webrtc] RTP port range."),
    ENUM_KEY("sip", "transports", sip_transports, "udp,tcp|udp|tcp", "udp,tcp",
             "SIP transports to listen on; UDP is what most endpoints use, TCP carries "
             "large INVITEs (many codecs, SRTP keys) without fragmentation."),
    INT_KEY("sip", "session_expires_s", sip_session_expires_s, 90, 86400, "1800",
            "Session timer (RFC 4028) offered to callers that support it: they refresh the "
            "call (re-INVITE or UPDATE) within this, or it is ended with a BYE."),
    INT_KEY("sip", "min_se_s", sip_min_se_s, 90, 86400, "90",
            "Shortest session interval accepted; a shorter Session-Expires gets 422 with "
            "Min-SE."),
    STR_KEY("sip", "certificate", sip_certificate, "",
            "PEM certificate (chain) for SIP over TLS (sips:); empty = no TLS listener."),
    STR_KEY("sip", "private_key", sip_private_key, "",
            "PEM private key of the SIP certificate; set both or neither."),
    INT_KEY("sip", "tls_port", sip_tls_port, 1, 65535, "5061",
            "TLS port of the SIP listener (same address as listen), when a certificate is set."),
    ENUM_KEY("sip", "offer_srtp", sip_offer_srtp, "none|optional|mandatory", "none",
             "SDES-SRTP in our own offers (the 200 to an INVITE without SDP): optional puts "
             "a=crypto in RTP/AVP sections and keys SRTP when the answer has it, mandatory "
             "offers RTP/SAVP only, none offers plain RTP. SDES keys travel in the SIP "
             "message: use it where signalling is protected (TLS, a trusted network)."),
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

const struct tsr_config_key *tsr_config_schema(void)
{
    return schema;
}
