package assets

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/ultravox-tray/ultravox-tray/assets/iconart"
)

// TestIconsDecodeAtTheirSizes checks every state, size and demo variant is
// embedded and decodes as a PNG of the right size with transparency.
func TestIconsDecodeAtTheirSizes(t *testing.T) {
	for _, s := range iconart.States {
		for _, size := range iconart.TraySizes {
			for _, demo := range []bool{false, true} {
				b, err := Icon(s, size, demo)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
					t.Fatalf("%s %d demo=%v: not a PNG", s, size, demo)
				}
				img, err := png.Decode(bytes.NewReader(b))
				if err != nil {
					t.Fatalf("%s %d demo=%v: %v", s, size, demo, err)
				}
				if got := img.Bounds().Size(); got != image.Pt(size, size) {
					t.Fatalf("%s %d demo=%v: size %v", s, size, demo, got)
				}
				if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
					t.Errorf("%s %d demo=%v: corner is not transparent", s, size, demo)
				}
			}
		}
	}
	img, err := png.Decode(bytes.NewReader(AppIcon()))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 64 || img.Bounds().Dy() != 64 {
		t.Fatalf("app icon is %v, want 64x64", img.Bounds())
	}
	if _, err := Icon(Billing, 17, false); err == nil {
		t.Fatal("Icon at an unsupported size returned no error")
	}
}

// TestAssetsMatchGenerator redraws every icon and compares it, pixel by
// pixel, with the embedded file: a change to iconart without `go generate`
// fails here. It also checks the generator leaves no extra or missing file.
func TestAssetsMatchGenerator(t *testing.T) {
	want := iconart.Files()
	entries, err := files.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(want) {
		t.Errorf("assets/ embeds %d PNG files, the generator makes %d", len(entries), len(want))
	}
	for name, img := range want {
		b, err := files.ReadFile(name)
		if err != nil {
			t.Errorf("%s: %v (run go generate ./assets)", name, err)
			continue
		}
		got, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !samePixels(got, img) {
			t.Errorf("%s differs from what iconart draws (run go generate ./assets)", name)
		}
	}

	// The generator itself writes decodable files into a fresh directory.
	dir := t.TempDir()
	if err := iconart.WriteAll(dir); err != nil {
		t.Fatal(err)
	}
	for name, img := range want {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := png.Decode(bytes.NewReader(b))
		if err != nil || !samePixels(got, img) {
			t.Errorf("regenerated %s does not round-trip: %v", name, err)
		}
	}
}

// TestStatesDifferInShape checks the states differ in their alpha mask (shape),
// not only in colour, so the billing icon reads for colour-blind users too.
func TestStatesDifferInShape(t *testing.T) {
	for _, size := range iconart.TraySizes {
		masks := map[iconart.State][]uint8{}
		for _, s := range iconart.States {
			img := iconart.Tray(s, size, false)
			m := make([]uint8, 0, size*size)
			for i := 3; i < len(img.Pix); i += 4 {
				m = append(m, img.Pix[i])
			}
			masks[s] = m
		}
		for i, a := range iconart.States {
			for _, b := range iconart.States[i+1:] {
				if diff := maskDiff(masks[a], masks[b]); diff < size {
					t.Errorf("%d px: %s and %s differ in only %d alpha units per row: too alike", size, a, b, diff/size)
				}
			}
		}
		// Billing covers much more area than idle: a filled dot, not a ring.
		if cov(masks[iconart.Billing]) < 1.8*cov(masks[iconart.Idle]) {
			t.Errorf("%d px: billing icon is not clearly fuller than idle", size)
		}
	}
}

func maskDiff(a, b []uint8) int {
	d := 0
	for i := range a {
		x := int(a[i]) - int(b[i])
		if x < 0 {
			x = -x
		}
		d += x
	}
	return d / 16
}

func cov(m []uint8) float64 {
	s := 0.0
	for _, v := range m {
		s += float64(v)
	}
	return s
}

func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				return false
			}
		}
	}
	return true
}
