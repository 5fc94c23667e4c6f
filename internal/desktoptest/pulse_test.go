//go:build linux

package desktoptest

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// tone is n samples of a 440 Hz sine at rate, s16le mono, amplitude 0.5.
func tone(rate, n int) []byte {
	b := make([]byte, 2*n)
	for i := 0; i < n; i++ {
		v := int16(16000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

// loud counts samples whose magnitude exceeds 4000.
func loud(pcm []byte) int {
	n := 0
	for i := 0; i+1 < len(pcm); i += 2 {
		v := int16(binary.LittleEndian.Uint16(pcm[i:]))
		if v > 4000 || v < -4000 {
			n++
		}
	}
	return n
}

func TestPulsePlaybackComesBackOnTheMonitor(t *testing.T) {
	Need(t, "pacat")
	var pid int
	var dir string
	t.Run("pulse", func(t *testing.T) {
		p := Pulse(t)
		pid = p.proc.cmd.Process.Pid
		dir = p.RuntimeDir
		if info := p.Pactl(t, "info"); !strings.Contains(info, "Default Sink: spk") || !strings.Contains(info, "Default Source: spk.monitor") {
			t.Fatalf("defaults not set:\n%s", info)
		}
		rec := p.Record(t, "spk.monitor", 48000)
		play := exec.Command("pacat", "--playback", "--device=spk", "--format=s16le", "--rate=48000", "--channels=1", "--raw")
		play.Env = envWith(p.Env()...)
		play.Stdin = strings.NewReader(string(tone(48000, 24000))) // 0.5 s
		if out, err := play.CombinedOutput(); err != nil {
			t.Fatalf("pacat: %v: %s", err, out)
		}
		rec.WaitFor(t, func(pcm []byte) bool { return loud(pcm) > 12000 }, 10*time.Second)
		ch := rec.Chunks()
		if len(ch) < 2 || !ch[len(ch)-1].At.After(ch[0].At) {
			t.Errorf("chunks carry no increasing arrival times: %d chunks", len(ch))
		}
	})
	if !gone(pid) {
		t.Errorf("pulseaudio %d still running after cleanup", pid)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("runtime dir %s left behind", dir)
	}
}

func TestPulsePipeMicIsTheDefaultSource(t *testing.T) {
	p := Pulse(t)
	fifo := p.AddPipeMic(t, 16000)
	if info := p.Pactl(t, "info"); !strings.Contains(info, "Default Source: mic1") {
		t.Fatalf("pipe mic is not the default source:\n%s", info)
	}
	rec := p.Record(t, "@DEFAULT_SOURCE@", 16000)
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(tone(16000, 8000)); err != nil {
		t.Fatalf("write to the mic fifo: %v", err)
	}
	rec.WaitFor(t, func(pcm []byte) bool { return loud(pcm) > 4000 }, 10*time.Second)
}

func TestPulseStopLeavesNoDaemon(t *testing.T) {
	p := Pulse(t)
	p.Stop()
	if p.Running() {
		t.Fatal("still running after Stop")
	}
	if out, err := p.pactl("info"); err == nil {
		t.Fatalf("pactl still answers after Stop: %s", out)
	}
	// autospawn is off: the failed client must not have started a daemon.
	time.Sleep(200 * time.Millisecond)
	if _, err := os.Stat(p.RuntimeDir + "/pulse/pid"); err == nil {
		t.Error("a client autospawned a new daemon")
	}
}
