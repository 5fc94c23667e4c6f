package calls

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"
)

// PlayRecording fetches the recording of call callID and plays it through
// the speaker the calls use (the microphone stays muted). It returns once
// playback has begun; stop ends it early; finished is called once, when it
// ended by itself (nil), was stopped (nil) or failed.
func (m *Manager) PlayRecording(ctx context.Context, callID string, finished func(error)) (stop func(), err error) {
	m.mu.Lock()
	audio, rate := m.cfg.Audio, m.settings.InputRate
	busy := false
	for _, oc := range m.ours {
		busy = busy || oc.view.State.Live()
	}
	m.mu.Unlock()
	if audio == nil {
		return nil, errors.New("audio is off in this session (no speaker): save the recording to a file instead")
	}
	if busy {
		return nil, errors.New("a call is using the speaker: end it first, or save the recording to a file")
	}
	var buf bytes.Buffer
	if _, err := m.Recording(ctx, callID, &buf); err != nil {
		return nil, err
	}
	pcm, wavRate, err := wavPCM(buf.Bytes())
	if err != nil {
		return nil, err
	}
	sess, err := audio.Open(AudioConfig{InputRate: rate, OutputRate: wavRate}, func([]byte) {})
	if err != nil {
		return nil, fmt.Errorf("cannot open the speaker: %w", err)
	}
	sess.SetMicMuted(true)
	quit := make(chan struct{})
	done := make(chan struct{})
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(done)
		m.feedRecording(sess, pcm, wavRate, quit)
		sess.Close()
		finished(nil)
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(quit) })
		<-done
	}, nil
}

// feedRecording queues pcm at real time, 100 ms at a time kept 200 ms
// ahead, until it is all played or quit closes (or the manager closes).
func (m *Manager) feedRecording(sess AudioSession, pcm []byte, rate int, quit <-chan struct{}) {
	chunk := rate / 10 * 2
	start := time.Now()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	sent := 0
	for {
		played := int(time.Since(start).Seconds()*float64(rate)) * 2
		for sent < len(pcm) && sent < played+2*chunk {
			end := min(sent+chunk, len(pcm))
			sess.Play(pcm[sent:end])
			sent = end
		}
		if sent >= len(pcm) && played >= len(pcm) {
			return
		}
		select {
		case <-quit:
			sess.ClearPlayback()
			return
		case <-m.ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// wavPCM is the 16-bit PCM of a WAV file as mono, and its rate.
func wavPCM(b []byte) ([]byte, int, error) {
	bad := func(why string) ([]byte, int, error) {
		return nil, 0, fmt.Errorf("the recording is not a WAV file this app can play (%s); save it to a file instead", why)
	}
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return bad("no RIFF/WAVE header")
	}
	var rate, channels, bits int
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8 : min(p+8+size, len(b))]
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return bad("short fmt chunk")
			}
			if f := binary.LittleEndian.Uint16(body); f != 1 {
				return bad(fmt.Sprintf("format %d, not PCM", f))
			}
			channels = int(binary.LittleEndian.Uint16(body[2:]))
			rate = int(binary.LittleEndian.Uint32(body[4:]))
			bits = int(binary.LittleEndian.Uint16(body[14:]))
		case "data":
			if bits != 16 || channels < 1 || rate < 8000 || rate > 48000 {
				return bad(fmt.Sprintf("%d-bit, %d channels, %d Hz", bits, channels, rate))
			}
			if channels == 1 {
				return body[:len(body)&^1], rate, nil
			}
			frame := 2 * channels
			out := make([]byte, 0, len(body)/channels)
			for i := 0; i+frame <= len(body); i += frame {
				sum := 0
				for c := 0; c < channels; c++ {
					sum += int(int16(binary.LittleEndian.Uint16(body[i+2*c:])))
				}
				out = binary.LittleEndian.AppendUint16(out, uint16(int16(sum/channels)))
			}
			return out, rate, nil
		}
		p += 8 + size + size&1
	}
	return bad("no data chunk")
}
