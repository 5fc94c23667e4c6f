// Command icons writes the application icon, drawn by package iconart, in
// the forms each OS's package wants:
//
//	icons -out DIR
//
// DIR/hicolor/NxN/apps/ultravox-tray.png (Linux, the hicolor theme sizes),
// DIR/ultravox-tray.ico (Windows, embedded in the .exe) and
// DIR/ultravox-tray.icns (macOS, the .app bundle).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"

	"github.com/jackmordaunt/icns/v3"
	ico "github.com/sergeymakinen/go-ico"

	"github.com/ultravox-tray/ultravox-tray/assets/iconart"
)

// Name is the icon's name in the theme (the .desktop file's Icon key).
const Name = "ultravox-tray"

var (
	hicolor  = []int{16, 22, 24, 32, 48, 64, 128, 256, 512}
	icoSizes = []int{16, 24, 32, 48, 64, 128, 256}
)

func main() {
	out := flag.String("out", "dist/icons", "directory to write into")
	flag.Parse()
	if err := write(*out); err != nil {
		fmt.Fprintln(os.Stderr, "icons:", err)
		os.Exit(1)
	}
}

func write(out string) error {
	for _, n := range hicolor {
		dir := filepath.Join(out, "hicolor", fmt.Sprintf("%dx%d", n, n), "apps")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		var b bytes.Buffer
		if err := png.Encode(&b, iconart.App(n)); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, Name+".png"), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	var imgs []image.Image
	for _, n := range icoSizes {
		imgs = append(imgs, iconart.App(n))
	}
	var b bytes.Buffer
	if err := ico.EncodeAll(&b, imgs); err != nil {
		return fmt.Errorf("ico: %w", err)
	}
	if err := os.WriteFile(filepath.Join(out, Name+".ico"), b.Bytes(), 0o644); err != nil {
		return err
	}
	b.Reset()
	// icns scales one large image to each of its sizes.
	if err := icns.Encode(&b, iconart.App(1024)); err != nil {
		return fmt.Errorf("icns: %w", err)
	}
	return os.WriteFile(filepath.Join(out, Name+".icns"), b.Bytes(), 0o644)
}
