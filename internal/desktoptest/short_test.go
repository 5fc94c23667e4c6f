//go:build linux

package desktoptest

import (
	"flag"
	"testing"
)

// -short skips an end-to-end test only when the desktop parts are not
// required: scripts/test.sh and CI pass -short through, and a required run
// must not pass by skipping.
func TestSkipShortRunsRequiredTests(t *testing.T) {
	if !testing.Short() {
		if err := flag.Set("test.short", "true"); err != nil {
			t.Fatal(err)
		}
		defer flag.Set("test.short", "false")
	}
	for _, tc := range []struct {
		req  string
		skip bool
	}{{"", true}, {"1", false}} {
		t.Setenv("CI", "")
		t.Setenv("UVT_REQUIRE_DESKTOP", tc.req)
		ft := &fakeTB{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			SkipShort(ft, "end-to-end test")
		}()
		<-done
		if ft.skipped != tc.skip || ft.failed {
			t.Errorf("UVT_REQUIRE_DESKTOP=%q: skipped %v failed %v, want skipped %v", tc.req, ft.skipped, ft.failed, tc.skip)
		}
	}
}
