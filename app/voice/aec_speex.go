//go:build !nospeex && !windows

package voice

// #cgo LDFLAGS: -lspeexdsp
// #include <stdlib.h>
// #include <speex/speex_echo.h>
// #include <speex/speex_preprocess.h>
//
// static int uvt_set_int(SpeexPreprocessState *pp, int req, int v) { return speex_preprocess_ctl(pp, req, &v); }
// static int uvt_set_rate(SpeexEchoState *st, int rate) { return speex_echo_ctl(st, SPEEX_ECHO_SET_SAMPLING_RATE, &rate); }
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// canceller is libspeexdsp's acoustic echo canceller (MDF) followed by its
// residual echo suppressor, on blocks of one uplink frame.
type canceller struct {
	echo *C.SpeexEchoState
	pre  *C.SpeexPreprocessState
	n    int
}

// newCanceller makes a canceller for blocks of n samples at rate whose echo
// path (device latencies plus room) is at most tail long.
func newCanceller(n, rate, tailSamples int) (*canceller, error) {
	echo := C.speex_echo_state_init(C.int(n), C.int(tailSamples))
	if echo == nil {
		return nil, errors.New("voice: libspeexdsp could not create an echo canceller")
	}
	C.uvt_set_rate(echo, C.int(rate))
	pre := C.speex_preprocess_state_init(C.int(n), C.int(rate))
	if pre == nil {
		C.speex_echo_state_destroy(echo)
		return nil, errors.New("voice: libspeexdsp could not create a preprocessor")
	}
	// Only residual echo suppression: no denoise or AGC, which would change
	// the user's voice in ways the server's own processing does not expect.
	C.uvt_set_int(pre, C.SPEEX_PREPROCESS_SET_DENOISE, 0)
	C.uvt_set_int(pre, C.SPEEX_PREPROCESS_SET_AGC, 0)
	if rc := C.speex_preprocess_ctl(pre, C.SPEEX_PREPROCESS_SET_ECHO_STATE, unsafe.Pointer(echo)); rc != 0 {
		C.speex_preprocess_state_destroy(pre)
		C.speex_echo_state_destroy(echo)
		return nil, fmt.Errorf("voice: libspeexdsp refused the echo state (%d)", int(rc))
	}
	return &canceller{echo: echo, pre: pre, n: n}, nil
}

// process removes the echo of play from rec into out (all n samples). No
// allocation: the slices are passed to C for the call only.
func (c *canceller) process(rec, play, out []int16) {
	C.speex_echo_cancellation(c.echo,
		(*C.spx_int16_t)(unsafe.Pointer(&rec[0])),
		(*C.spx_int16_t)(unsafe.Pointer(&play[0])),
		(*C.spx_int16_t)(unsafe.Pointer(&out[0])))
	C.speex_preprocess_run(c.pre, (*C.spx_int16_t)(unsafe.Pointer(&out[0])))
}

// reset forgets the learned echo path.
func (c *canceller) reset() { C.speex_echo_state_reset(c.echo) }

func (c *canceller) close() {
	if c.pre != nil {
		C.speex_preprocess_state_destroy(c.pre)
		c.pre = nil
	}
	if c.echo != nil {
		C.speex_echo_state_destroy(c.echo)
		c.echo = nil
	}
}

const speexAvailable = true
