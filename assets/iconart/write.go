package iconart

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
)

// Encode returns img as PNG bytes, compressed the same way every time.
func Encode(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Files returns every asset file name with its image.
func Files() map[string]*image.NRGBA {
	out := map[string]*image.NRGBA{AppIconFile: App(AppIconSize)}
	for _, s := range States {
		for _, size := range TraySizes {
			for _, demo := range []bool{false, true} {
				out[FileName(s, size, demo)] = Tray(s, size, demo)
			}
		}
	}
	return out
}

// WriteAll writes every icon as a PNG file into dir.
func WriteAll(dir string) error {
	for name, img := range Files() {
		b, err := Encode(img)
		if err != nil {
			return fmt.Errorf("encoding %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
