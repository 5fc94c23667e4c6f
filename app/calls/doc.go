// Where things are in package calls, by a call's life:
//
//	manager.go   Manager, Config, New, Close; settings and key changes; publishing snapshots and events
//	snapshot.go  the plain data consumers see (Snapshot, CallView, Event); hub.go delivers it
//	call.go      ourCall (one call of ours) and how the server's view of it is folded in
//	start.go     creating: Start's checks, journal entry, create request, join
//	live.go      being live: reading the socket, join time, mute, typed text, transcript
//	media.go     being live: audio devices, text mode (silence), audio health
//	endphase.go  ending: endPhase, the one record of where a call's end is, and its transitions
//	endflow.go   ending: one end attempt (teardown of socket and audio, then confirmEnd)
//	confirm.go   ending: confirmation with the server (hang-up, GET until ended) and finalizing
//	end.go       ending: End, EndOurs, EndAll, EndEverything
//	settle.go    settling: billing until settled, history entries, today's usage, the budget
//	history.go   the history file; journal.go the journal of calls not confirmed ended
//	watch.go     the account watch: polling, health, calls elsewhere, ending-soon deadlines
//	derive.go    the one overall state the icon shows
//	messages.go  the words: every event message and the formatters behind them

package calls
