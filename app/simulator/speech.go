package simulator

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// SpeechFunc renders text as signed 16-bit little-endian mono PCM at rate
// Hz: the agent's voice (Options.Speech).
type SpeechFunc func(ctx context.Context, text string, rate int) ([]byte, error)

// SynthSpeech is the default voice: speech-like but unintelligible audio
// (see synthSpeech), instant and dependency-free.
func SynthSpeech(_ context.Context, text string, rate int) ([]byte, error) {
	return synthSpeech(text, rate), nil
}

// EspeakPath is the espeak-ng (or espeak) binary on PATH, or "" when there
// is none.
func EspeakPath() string {
	for _, name := range []string{"espeak-ng", "espeak"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// EspeakSpeech speaks text with espeak-ng (generated at run time, nothing
// downloaded) and resamples it to rate. It fails when espeak is missing or
// produces no audio; the agent then falls back to SynthSpeech.
func EspeakSpeech(ctx context.Context, text string, rate int) ([]byte, error) {
	bin := EspeakPath()
	if bin == "" {
		return nil, errors.New("espeak-ng is not installed")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--stdout", "-s", "165")
	cmd.Stdin = strings.NewReader(text) // never on the command line
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("espeak-ng: %v: %s", err, strings.TrimSpace(errOut.String()))
	}
	pcm, srcRate, err := parseWAV(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("espeak-ng output: %w", err)
	}
	if len(pcm) < 2 {
		return nil, errors.New("espeak-ng produced no audio")
	}
	return resample(pcm, srcRate, rate), nil
}

// parseWAV returns the PCM data and rate of a 16-bit mono PCM WAV. Sizes of
// 0xFFFFFFFF-ish (streamed output) are taken as "to the end".
func parseWAV(b []byte) ([]byte, int, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, errors.New("not a WAV file")
	}
	rate := 0
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int(binary.LittleEndian.Uint32(b[off+4:]))
		body := off + 8
		switch id {
		case "fmt ":
			if body+16 > len(b) {
				return nil, 0, errors.New("short fmt chunk")
			}
			format := binary.LittleEndian.Uint16(b[body:])
			channels := binary.LittleEndian.Uint16(b[body+2:])
			rate = int(binary.LittleEndian.Uint32(b[body+4:]))
			bits := binary.LittleEndian.Uint16(b[body+14:])
			if format != 1 || channels != 1 || bits != 16 || rate <= 0 {
				return nil, 0, fmt.Errorf("want 16-bit mono PCM, got format %d, %d channels, %d bits", format, channels, bits)
			}
		case "data":
			if rate == 0 {
				return nil, 0, errors.New("data before fmt")
			}
			end := body + size
			if size < 0 || end > len(b) || end < body {
				end = len(b)
			}
			return b[body : body+(end-body)&^1], rate, nil
		}
		if size < 0 || body+size > len(b) {
			break
		}
		off = body + size + size&1
	}
	return nil, 0, errors.New("no data chunk")
}

// resample converts s16le mono PCM from one rate to another by linear
// interpolation.
func resample(pcm []byte, from, to int) []byte {
	if from == to {
		return pcm
	}
	n := len(pcm) / 2
	sample := func(i int) float64 {
		if i >= n {
			i = n - 1
		}
		return float64(int16(binary.LittleEndian.Uint16(pcm[2*i:])))
	}
	m := int(int64(n) * int64(to) / int64(from))
	out := make([]byte, 2*m)
	for j := 0; j < m; j++ {
		pos := float64(j) * float64(from) / float64(to)
		i := int(pos)
		frac := pos - float64(i)
		v := sample(i)*(1-frac) + sample(i+1)*frac
		binary.LittleEndian.PutUint16(out[2*j:], uint16(int16(v)))
	}
	return out
}
