// Package simulator is an in-process Ultravox service: the REST operations
// Ultravox Tray uses (under /api/), the call lifecycle and billing rules that
// Ultravox documents, and a talking agent over the serverWebSocket medium. Tests drive it through its Go controls (usually
// via simtest.New, which validates all traffic against the schema);
// cmd/ultravox-sim runs it alone; the tray's demo mode embeds it.
//
// # What it models
//
//   - Operations: GET /api/accounts/me, GET /api/accounts/me/billing/usage,
//     GET /api/agents (search, sort, paging), GET /api/agents/{id},
//     POST and GET /api/agents/{id}/calls, POST and GET /api/calls,
//     GET and DELETE /api/calls/{id}, POST /api/calls/{id}/send_data_message
//     (hang_up, user_text_message, forced_agent_message),
//     GET /api/calls/{id}/messages, GET /api/calls/{id}/recording,
//     GET /api/deleted_calls[/{id}].
//   - After a call: POST /api/calls?priorCallId=... continues an ended call
//     (its agent, prompt, voice and recording setting unless the body sets
//     them; its messages become the new call's first messages; initialMessages
//     as well is a 400). A call created with recordingEnabled has a WAV
//     recording (what both sides sent, mixed) once it was joined and ended;
//     SetRecordingRedirect answers 302 to a second loopback "storage" host
//     that refuses requests carrying X-API-Key (StorageRequests). Summaries
//     appear once billing settles.
//   - X-API-Key auth; Django-REST-style errors: {"detail": ...} for
//     401/404/422/429/5xx, {"field": ["message"]} for 400.
//   - Cursor pagination with full-URL next/previous and total; positions,
//     not offsets, so a page boundary survives inserts. sort=created or
//     -created (default), fromDate/toDate, metadata.<key>=<value>, agentIds.
//   - Lifecycle: created -> joined (exactly one websocket joiner) -> ended.
//     joinTimeout -> unjoined; maxDuration -> the agent speaks
//     timeExceededMessage, then timeout; client closes or drops its socket ->
//     hangup; REST or socket hang_up -> agent_hangup (configurable); no
//     audio for mediaIdleTimeout (at least 10 s, configurable) ->
//     connection_error; ForceEnd for any reason. hang_up on an unjoined or
//     ended call -> 422 "Call is not active". The REST hang_up answers 204
//     before the call has ended. DELETE of a live call -> 422; of an ended
//     one -> 204 and a tombstone.
//   - Money: billedDuration = joined..ended rounded up to 6 s; billingStatus
//     PENDING until SettleDelay after the end, then BILLED, FREE_MINUTES
//     (covered by the free time the call reserved), FREE_ZERO_EFFECTIVE_
//     DURATION (never joined) or FREE_SYSTEM_ERROR. Each call reserves
//     min(maxDuration, free time left) at create and returns the unused part
//     at its end; activeCalls; a concurrency cap (unjoined calls count) and
//     an optional creates-per-minute limit, both 429 with Retry-After.
//     Billing usage per UTC day of BILLED minutes.
//   - The socket: binary s16le mono PCM at inputSampleRate in and
//     outputSampleRate out; JSON text messages call_started, state,
//     transcript (deltas then a final text per ordinal), playback_clear_buffer,
//     pong, debug. The agent greets (speech-like audio: a voiced 120-160 Hz
//     source with harmonics under a 4 Hz syllable envelope, paced in real
//     time in 20-60 ms chunks), detects user speech by energy, answers after
//     600 ms of quiet with what it heard ("I heard you speak for 1.4
//     seconds."), clears the client's buffer and stops when talked over,
//     answers text messages, switches to text output on set_output_medium,
//     and hangs up by itself after a "bye". Its voice is pluggable
//     (EspeakSpeech says the words). The server closes with 1000 for
//     normal ends, 4000 for connection_error and 1011 for system_error.
//   - Real agents' habits: an agent can invoke a client tool
//     (client_tool_invocation; AgentSeed.ClientTool, Options.ClientTool,
//     InvokeClientTool) and records the client's client_tool_result with its
//     latency (ToolInvocations); agents' prompts can use {{variables}}
//     (AgentSeed.TemplateVariables) and a create without a templateContext
//     value for each is refused with 400 {"templateContext": [...]}.
//   - Strict where the service is: unknown create-body fields are refused
//     with 400; agent audio may run ahead up to clientBufferSizeMs
//     (SendAhead); SetHangupFarewell lets the agent speak before a hang_up
//     ends the call; SetMetadataIndexLag hides new calls from metadata
//     filters for a while; SetFormats answers in the other forms servers use
//     (durations as "0:00:42.300000", "0 00:00:42" or "42.300s", timestamps
//     with offsets, enum values the schema does not list).
//   - Test controls: seeded agents and account, StartCallElsewhere and
//     JoinElsewhere, ForceEnd, FailNext, FailNextAfterHandling, CutNext,
//     Malformed, SetLatency, SetRoundTrip (a network round trip on REST and
//     the call sockets alike), DropSockets, SetUnauthorized, SetUnresponsive,
//     SetHangupReason, a FakeClock (also over HTTP under /sim/control/ with
//     Options.ControlAPI, for the standalone simulator); recording of every request and of each
//     call's audio both ways with arrival times, and its transcript.
//
// # What it leaves out
//
//   - Understanding: the agent recognises no words (it measures how long the
//     user spoke) and says fixed sentences; no LLM, server tools, inactivityMessages,
//     call stages, summaries beyond a sentence built from the message count.
//   - Media other than serverWebSocket: WebRTC (LiveKit room_info), telephony
//     and SIP calls can be created but not joined here.
//   - Agent, tool, voice, corpus, webhook, API-key and telephony management;
//     per-key request rate limits (use FailNext(n, 429)); call throttles;
//     retention policies; REFUNDED billing.
//   - Exact server texts and timings where the docs are silent (error
//     wording, settle delay, close reasons): those are configurable or
//     plausible guesses.
//
// # Where things are
//
//	sim.go          Server: New, Listen, Close, the handler's lifetime
//	options.go      Options and their defaults; end reasons, billing statuses
//	api.go          routes and the middleware every REST operation passes
//	                (faults, auth, recording, malformed answers)
//	api_account.go  account, agents, billing usage
//	api_calls.go    create, get, delete a call; data messages; messages
//	api_lists.go    call and tombstone lists and their filters
//	page.go         cursor pagination
//	create.go       validating a create request and making the call
//	calls.go        a call's state, its wire form, joining, ending, settling
//	socket.go       the join websocket: session, reading, sending
//	agent.go        the talking agent: turns, transcripts, data messages
//	audio.go        speech-like audio and the voice-activity detector
//	speech.go       the agent's voices (synth, espeak-ng)
//	clock.go        Clock, and FakeClock for tests
//	duration.go     protobuf-style durations ("1.5s")
//	wire.go         JSON wire types
//	control.go      test controls, in Go and over HTTP (/sim/control/)
//	roundtrip.go    the link Listen puts in front: a settable round trip
//	tools.go        client tool invocations and the replies
//	templates.go    {{variables}} in agents' prompts and templateContext
//	strict.go       unknown create fields, metadata index lag, farewells
//	formats.go      alternative answer formats
//	record.go       recorded requests, audio and transcripts
//	review.go       priorCallId, recordings and their storage host, summaries
package simulator
