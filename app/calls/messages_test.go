package calls

import (
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/ultravox-tray/ultravox-tray/app/ultravox"
)

// Every end message is a sentence: it starts with a capital letter even when
// the agent has no name, and shows the billed time as a clock and the cost
// in cents.
func TestEndMessagesAreSentences(t *testing.T) {
	joined := t0
	v := CallView{Joined: joined, Ended: joined.Add(37 * time.Second), MaxDuration: 4 * time.Minute,
		EndReason: ultravox.EndReasonAgentHangup}
	kinds := []EventKind{EventTimedOut, EventEndedByAgent, EventConnectionLost, EventUnjoinedExpired, EventRecoveredEnded, EventEnded}
	for _, k := range kinds {
		msg := endMessage(k, v, 0.05)
		if r := []rune(msg)[0]; !unicode.IsUpper(r) || !strings.HasSuffix(msg, ".") {
			t.Errorf("%v: %q is not a sentence", k, msg)
		}
	}
	if msg := endMessage(EventEndedByAgent, v, 0.05); msg != "The agent hung up (0:42, about $0.04)." {
		t.Errorf("ended by agent: %q", msg)
	}
	if msg := endMessage(EventTimedOut, v, 0.05); !strings.Contains(msg, "its 4:00 limit") {
		t.Errorf("timed out: %q", msg)
	}
	if msg := msgBudgetReached(0.055, 0.05); msg != "Today's spend $0.06 has reached the daily budget of $0.05: new calls are refused until tomorrow (UTC)." {
		t.Errorf("budget: %q", msg)
	}
}
