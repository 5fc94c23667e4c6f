package calls

// endPhase is where one call of ours is in its end. It is the only record of
// "do we want it ended, is an attempt running, how did the last attempt
// finish"; endTransitions lists every move it may make. The usual path:
//
//	none -> requested -> tearing down -> confirming -> confirmed
//	                                               \-> never joined <-> rechecking unjoined
//	                                               \-> unconfirmed -> tearing down (retry)
type endPhase int

const (
	endNone               endPhase = iota // live; nobody asked to end it
	endRequested                          // wanted ended; no attempt runs yet (the create is in flight, or the manager waits for its next poll)
	endTearingDown                        // an attempt runs: closing our socket and audio
	endConfirming                         // an attempt runs: hang-up and GET until the server says ended
	endNeverJoined                        // the last attempt found it never joined: free, it expires by itself; the watcher keeps checking
	endRecheckingUnjoined                 // an attempt runs on a never-joined call: GET until it expired (no hang-up)
	endUnconfirmed                        // the last attempt gave up; the watcher retries on every poll
	endConfirmed                          // the server confirmed the end, or the call does not exist: final
)

func (p endPhase) String() string {
	names := [...]string{"none", "requested", "tearing down", "confirming", "never joined", "rechecking unjoined", "unconfirmed", "confirmed"}
	if p < 0 || int(p) >= len(names) {
		return "invalid"
	}
	return names[p]
}

// endTransitions is every allowed move. Any phase but the last may jump to
// endConfirmed: the server can end a call on its own at any moment (the poll
// sees it ended). An attempt that the manager's Close interrupts goes back to
// endRequested, so the next start resolves the call from the journal.
var endTransitions = map[endPhase][]endPhase{
	endNone:        {endRequested, endConfirmed},
	endRequested:   {endTearingDown, endConfirmed},
	endTearingDown: {endConfirming, endConfirmed},
	endConfirming:  {endNeverJoined, endUnconfirmed, endRequested, endConfirmed},
	endNeverJoined: {endRecheckingUnjoined, endConfirmed},
	// A recheck that fails or is interrupted leaves the call known as
	// never joined: it costs nothing whatever the network says.
	endRecheckingUnjoined: {endNeverJoined, endConfirmed},
	endUnconfirmed:        {endTearingDown, endConfirmed},
	endConfirmed:          nil,
}

// advance moves *p to next if endTransitions allows it and reports whether
// it did; a forbidden move leaves *p as it was.
func (p *endPhase) advance(next endPhase) bool {
	for _, ok := range endTransitions[*p] {
		if ok == next {
			*p = next
			return true
		}
	}
	return false
}

// wanted: someone asked for the end (or the call already ended).
func (p endPhase) wanted() bool { return p != endNone }

// attemptRunning: an endFlow goroutine works on the call.
func (p endPhase) attemptRunning() bool {
	return p == endTearingDown || p == endConfirming || p == endRecheckingUnjoined
}

// confirmed: the end is on record; nothing more happens to the call.
func (p endPhase) confirmed() bool { return p == endConfirmed }

// endCause is who started the end; it picks the event (and its words) when
// the end is confirmed.
type endCause int

const (
	causeNone           endCause = iota // nobody yet: the server may end it on its own
	causeUs                             // End, EndOurs, EndAll, EndEverything, a failed start, recovery
	causeSocketDropped                  // the server closed our socket without us asking
	causeConnectionLost                 // the socket dropped and the call billed on until we ended it over REST
)
