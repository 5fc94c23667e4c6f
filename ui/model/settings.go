package model

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ultravox-tray/ultravox-tray/app/calls"
	"github.com/ultravox-tray/ultravox-tray/app/settings"
)

// SettingsForm is the settings window's fields as the user sees and edits
// them: text for what is typed, ticks for the check boxes.
type SettingsForm struct {
	Agent                                   string // a label of AgentChoices, or a name or ID typed in
	MaxDuration, JoinTimeout, Price, Budget string
	Microphone, Speaker                     string // "" = system default
	Headset, EchoCancellation               bool
	EndOnLock, DeleteAfterEnd, StartAtLogin bool
}

// FormOf shows s in the form, with agent as the chosen agent's label.
func FormOf(s settings.Settings, agent string) SettingsForm {
	return SettingsForm{
		Agent:            agent,
		MaxDuration:      strconv.Itoa(s.MaxDurationSeconds),
		JoinTimeout:      strconv.Itoa(s.JoinTimeoutSeconds),
		Price:            strconv.FormatFloat(s.PricePerMinute, 'f', -1, 64),
		Budget:           strconv.FormatFloat(s.DailyBudget, 'f', -1, 64),
		Microphone:       s.MicrophoneDevice,
		Speaker:          s.SpeakerDevice,
		Headset:          s.Headset,
		EchoCancellation: s.EchoCancellation,
		EndOnLock:        s.EndCallsOnLock,
		DeleteAfterEnd:   s.DeleteAfterEnd,
		StartAtLogin:     s.StartAtLogin,
	}
}

// Settings reads the form onto base (the saved settings), with a specific
// message for every field that is not a number, then the settings' own
// validation. The echo tick is read only when the build offers it (echo);
// otherwise the saved choice stays.
func (f SettingsForm) Settings(base settings.Settings, agents AgentChoices, echo bool) (settings.Settings, error) {
	s := base
	var errs []string
	intField := func(name, text string, dst *int) {
		v, err := strconv.Atoi(strings.TrimSpace(text))
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s must be a whole number of seconds, not %q", name, text))
			return
		}
		*dst = v
	}
	floatField := func(name, text string, dst *float64) {
		v, err := strconv.ParseFloat(strings.TrimPrefix(strings.TrimSpace(text), "$"), 64)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s must be an amount in dollars, not %q", name, text))
			return
		}
		*dst = v
	}
	intField("Max call duration", f.MaxDuration, &s.MaxDurationSeconds)
	intField("Join timeout", f.JoinTimeout, &s.JoinTimeoutSeconds)
	floatField("Price per minute", f.Price, &s.PricePerMinute)
	floatField("Daily budget", f.Budget, &s.DailyBudget)
	s.DefaultAgentID = agents.ID(f.Agent)
	s.EndCallsOnLock = f.EndOnLock
	s.DeleteAfterEnd = f.DeleteAfterEnd
	s.MicrophoneDevice = strings.TrimSpace(f.Microphone)
	s.SpeakerDevice = strings.TrimSpace(f.Speaker)
	s.Headset = f.Headset
	if echo {
		s.EchoCancellation = f.EchoCancellation
	}
	s.StartAtLogin = f.StartAtLogin
	if len(errs) > 0 {
		return s, errors.New(strings.Join(errs, "; "))
	}
	if err := s.Validate(); err != nil {
		return s, err
	}
	return s, nil
}

// EchoEnabled says whether the echo cancellation box can be ticked: with a
// headset there is no echo to cancel.
func EchoEnabled(headset bool) bool { return !headset }

// SaveStatus is the line under the settings form after Save.
func SaveStatus(err error) string {
	if err != nil {
		return "Not saved: " + err.Error()
	}
	return "Saved."
}

// AgentChoices are the default agent's choices in the settings window.
type AgentChoices struct {
	// Labels are the agents' names in the manager's order, with the ID added
	// where a name is empty or repeated.
	Labels []string
	// Current is the label of the saved choice, or of the agent the manager
	// uses when nothing is saved, or the saved ID when no agent has it.
	Current string
	ids     map[string]string // label -> agent ID
}

// AgentChoicesOf lists s's agents with saved (an agent ID, may be "") chosen.
func AgentChoicesOf(s calls.Snapshot, saved string) AgentChoices {
	a := AgentChoices{Current: saved, ids: map[string]string{}}
	for _, ag := range s.Agents {
		l := ag.Name
		if l == "" || a.ids[l] != "" {
			l = fmt.Sprintf("%s (%s)", ag.Name, ag.ID)
		}
		a.ids[l] = ag.ID
		a.Labels = append(a.Labels, l)
		if ag.ID == saved {
			a.Current = l
		}
	}
	if a.Current == "" { // no choice saved: show the agent the manager uses
		for _, l := range a.Labels {
			if a.ids[l] == s.DefaultAgentID {
				a.Current = l
			}
		}
	}
	return a
}

// ID is the agent ID the text in the agent box stands for: a listed label's
// agent, or the text itself as a name or ID typed in.
func (a AgentChoices) ID(text string) string {
	text = strings.TrimSpace(text)
	if id, ok := a.ids[text]; ok {
		return id
	}
	return text
}

// The settings window's title, field names, boxes and buttons.
const (
	SettingsTitle     = "Ultravox Tray Settings"
	FieldAPIKey       = "API key"
	FieldAgent        = "Default agent"
	FieldMaxDuration  = "Max call duration (s)"
	FieldJoinTimeout  = "Join timeout (s)"
	FieldPrice        = "Price per minute ($)"
	FieldBudget       = "Daily budget ($, 0 = none)"
	FieldMicrophone   = "Microphone"
	FieldSpeaker      = "Speaker"
	AgentPlaceholder  = "agent name or ID"
	DevicePlaceholder = "system default"
	BoxHeadset        = "Headset (no echo control)"
	BoxEcho           = "Echo cancellation (experimental)"
	BoxEndOnLock      = "End calls when the screen locks"
	BoxDeleteAfterEnd = "Delete call records on Ultravox after a call ends"
	BoxStartAtLogin   = "Start at login"
	LabelSave         = "Save"
)
