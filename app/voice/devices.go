package voice

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/gen2brain/malgo"
)

// Device is an audio device as the settings window lists it.
type Device struct {
	Name    string
	Default bool
}

// ListDevices returns the capture and playback devices of the first audio
// backend that starts.
func ListDevices() (capture, playback []Device, err error) {
	ctx, err := initContext()
	if err != nil {
		return nil, nil, err
	}
	defer freeContext(ctx)
	list := func(kind malgo.DeviceType) ([]Device, error) {
		infos, err := ctx.Devices(kind)
		if err != nil {
			return nil, err
		}
		out := make([]Device, 0, len(infos))
		for i := range infos {
			out = append(out, Device{Name: infos[i].Name(), Default: infos[i].IsDefault != 0})
		}
		return out, nil
	}
	if capture, err = list(malgo.Capture); err != nil {
		return nil, nil, fmt.Errorf("%w: listing microphones: %v", ErrNoMicrophone, err)
	}
	if playback, err = list(malgo.Playback); err != nil {
		return nil, nil, fmt.Errorf("%w: listing speakers: %v", ErrNoSpeaker, err)
	}
	return capture, playback, nil
}

func initContext() (*malgo.AllocatedContext, error) {
	ctx, err := malgo.InitContext(backends, malgo.ContextConfig{}, nil)
	if err != nil {
		return nil, fmt.Errorf("%w (tried WASAPI, Core Audio, PulseAudio, ALSA): %v", ErrNoAudioSystem, err)
	}
	return ctx, nil
}

func freeContext(ctx *malgo.AllocatedContext) {
	_ = ctx.Uninit()
	ctx.Free()
}

// openDevices opens and starts the microphone and the speaker.
func (s *Session) openDevices() error {
	capID, err := s.findDevice(malgo.Capture, s.cfg.CaptureDevice)
	if err != nil {
		return err
	}
	playID, err := s.findDevice(malgo.Playback, s.cfg.PlaybackDevice)
	if err != nil {
		return err
	}
	cc := malgo.DefaultDeviceConfig(malgo.Capture)
	cc.SampleRate = uint32(s.rates.InputRate)
	cc.Capture.Format = malgo.FormatS16
	cc.Capture.Channels = 1
	cc.Capture.DeviceID = capID
	cc.PeriodSizeInMilliseconds = devicePeriodMs
	cc.Periods = devicePeriods
	cc.Pulse.StreamNameCapture = "Ultravox call microphone"
	s.capture, err = malgo.InitDevice(s.ctx.Context, cc, malgo.DeviceCallbacks{
		Data: func(_, in []byte, n uint32) {
			if s.aec != nil {
				s.aec.capture(s, in)
			} else {
				s.q.push(in)
			}
			// Last, atomically: release's Load after Uninit then orders
			// everything this callback touched before what release frees.
			s.micSamples.Add(int64(n))
		},
		Stop: s.onStop,
	})
	if err != nil {
		s.capture = nil
		return fmt.Errorf("%w: %s: %v", ErrNoMicrophone, deviceLabel(s.cfg.CaptureDevice), err)
	}

	pc := malgo.DefaultDeviceConfig(malgo.Playback)
	pc.SampleRate = uint32(s.rates.OutputRate)
	pc.Playback.Format = malgo.FormatS16
	pc.Playback.Channels = 1
	pc.Playback.DeviceID = playID
	pc.PeriodSizeInMilliseconds = uint32(s.cfg.SpeakerBufferMs)
	pc.Periods = devicePeriods
	pc.Pulse.StreamNamePlayback = "Ultravox call speaker"
	s.playback, err = malgo.InitDevice(s.ctx.Context, pc, malgo.DeviceCallbacks{
		Data: func(out, _ []byte, _ uint32) { s.play(out) },
		Stop: s.onStop,
	})
	if err != nil {
		s.playback = nil
		return fmt.Errorf("%w: %s: %v", ErrNoSpeaker, deviceLabel(s.cfg.PlaybackDevice), err)
	}
	if err := s.capture.Start(); err != nil {
		return fmt.Errorf("%w: starting %s: %v", ErrNoMicrophone, deviceLabel(s.cfg.CaptureDevice), err)
	}
	if err := s.playback.Start(); err != nil {
		return fmt.Errorf("%w: starting %s: %v", ErrNoSpeaker, deviceLabel(s.cfg.PlaybackDevice), err)
	}
	return nil
}

func deviceLabel(name string) string {
	if name == "" {
		return "default device"
	}
	return fmt.Sprintf("device %q", name)
}

// findDevice resolves a device name to a miniaudio ID in C memory ("" is the
// default device: nil).
func (s *Session) findDevice(kind malgo.DeviceType, name string) (unsafe.Pointer, error) {
	if name == "" {
		return nil, nil
	}
	missing := ErrNoMicrophone
	what := "microphone"
	if kind == malgo.Playback {
		missing, what = ErrNoSpeaker, "speaker"
	}
	infos, err := s.ctx.Devices(kind)
	if err != nil {
		return nil, fmt.Errorf("%w: listing devices: %v", missing, err)
	}
	var names []string
	for i := range infos {
		if infos[i].Name() == name {
			p := infos[i].ID.Pointer()
			s.deviceIDs = append(s.deviceIDs, p)
			return p, nil
		}
		names = append(names, fmt.Sprintf("%q", infos[i].Name()))
	}
	return nil, fmt.Errorf("%w: %s %q not found (available: %s)", missing, what, name, strings.Join(names, ", "))
}
