package ultravox

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// BenchmarkParseDuration compares ParseDuration with the standard library's
// time.ParseDuration (the baseline) on the same inputs.
func BenchmarkParseDuration(b *testing.B) {
	inputs := []string{"240s", "123.456s", "0.5s", "1m30s"}
	b.Run("baseline=time.ParseDuration", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := time.ParseDuration(inputs[i%len(inputs)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ParseDuration", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := ParseDuration(inputs[i%len(inputs)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// countingServer accepts one websocket and counts the audio bytes it reads.
func countingServer(b *testing.B, got *atomic.Int64) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(-1)
		for {
			_, data, err := c.Read(r.Context())
			if err != nil {
				return
			}
			got.Add(int64(len(data)))
		}
	}))
	b.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func waitBytes(b *testing.B, got *atomic.Int64, want int64) {
	deadline := time.Now().Add(30 * time.Second)
	for got.Load() < want {
		if time.Now().After(deadline) {
			b.Fatalf("server got %d of %d bytes", got.Load(), want)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// BenchmarkSendAudio sends 20 ms frames of 48 kHz audio (1920 bytes) as
// fast as they go, through CallSocket.SendAudio and, as the baseline,
// through a bare websocket write loop, and waits until the server read them
// all. The figure per frame is the cost of the 50 Hz uplink path.
func BenchmarkSendAudio(b *testing.B) {
	frame := make([]byte, 1920)
	b.Run("baseline=websocket.Write", func(b *testing.B) {
		var got atomic.Int64
		u := countingServer(b, &got)
		c, _, err := websocket.Dial(context.Background(), u, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.CloseNow()
		b.SetBytes(int64(len(frame)))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := c.Write(context.Background(), websocket.MessageBinary, frame); err != nil {
				b.Fatal(err)
			}
		}
		waitBytes(b, &got, int64(b.N*len(frame)))
	})
	b.Run("CallSocket.SendAudio", func(b *testing.B) {
		var got atomic.Int64
		u := countingServer(b, &got)
		s, err := Join(context.Background(), u, JoinOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.abort()
		b.SetBytes(int64(len(frame)))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for {
				err := s.SendAudio(frame)
				if err == nil {
					break
				}
				if !errors.Is(err, ErrAudioBacklog) {
					b.Fatal(err)
				}
			}
		}
		waitBytes(b, &got, int64(b.N*len(frame)))
	})
}
