package calls

import "github.com/ultravox-tray/ultravox-tray/app/ultravox"

// Enums the server may extend. A value this app does not know never
// changes how a call is shown or counted; the words carry the raw value, so
// the user sees what Ultravox said.

// knownEndReason reports whether r is an end reason this app knows ("" is
// a live call).
func knownEndReason(r string) bool {
	switch r {
	case "", ultravox.EndReasonUnjoined, ultravox.EndReasonHangup, ultravox.EndReasonAgentHangup,
		ultravox.EndReasonTimeout, ultravox.EndReasonConnectionError, ultravox.EndReasonSystemError:
		return true
	}
	return false
}

// knownBillingStatus reports whether s is a billing status this app knows.
func knownBillingStatus(s string) bool {
	switch s {
	case "", ultravox.BillingStatusPending, ultravox.BillingStatusFreeConsole, ultravox.BillingStatusFreeZeroEffectiveDuration,
		ultravox.BillingStatusFreeMinutes, ultravox.BillingStatusFreeSystemError, ultravox.BillingStatusFreeOther,
		ultravox.BillingStatusBilled, ultravox.BillingStatusRefunded, ultravox.BillingStatusUnspecified:
		return true
	}
	return false
}

// unknownEndReasonNote is added to an end message when the end reason is
// one this app does not know.
func unknownEndReasonNote(v CallView) string {
	if knownEndReason(v.EndReason) {
		return ""
	}
	return " Ultravox gave the end reason \"" + v.EndReason + "\", which this version of the app does not know."
}
