// Package macos holds the macOS bundle's template; its test assembles a
// bundle with scripts/macos-bundle.sh from a stand-in darwin binary and
// checks what macOS reads from it.
package macos

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/jackmordaunt/icns/v3"
)

// readPlist decodes an XML property list whose root is a dict of strings
// and booleans (all Info.plist needs), failing on anything malformed: a key
// without a value, a value without a key, a duplicate key, another root.
func readPlist(data []byte) (map[string]any, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	out := map[string]any{}
	depth, key := 0, ""
	var path []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path = append(path, t.Name.Local)
			depth++
			switch {
			case depth == 1 && t.Name.Local != "plist", depth == 2 && t.Name.Local != "dict":
				return nil, fmt.Errorf("unexpected <%s> at %s", t.Name.Local, strings.Join(path, "/"))
			case depth == 3:
				var v string
				if err := d.DecodeElement(&v, &t); err != nil {
					return nil, err
				}
				path, depth = path[:len(path)-1], depth-1
				switch t.Name.Local {
				case "key":
					if key != "" {
						return nil, fmt.Errorf("key %q has no value", key)
					}
					if _, dup := out[v]; dup {
						return nil, fmt.Errorf("duplicate key %q", v)
					}
					key = v
				case "string", "true", "false":
					if key == "" {
						return nil, fmt.Errorf("<%s> without a key", t.Name.Local)
					}
					switch t.Name.Local {
					case "string":
						out[key] = v
					default:
						out[key] = t.Name.Local == "true"
					}
					key = ""
				default:
					return nil, fmt.Errorf("unexpected <%s> in the dict", t.Name.Local)
				}
			}
		case xml.EndElement:
			path, depth = path[:len(path)-1], depth-1
		}
	}
	if key != "" {
		return nil, fmt.Errorf("key %q has no value", key)
	}
	return out, nil
}

func TestBundleFromStandIn(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the bundle script runs on macOS and Linux")
	}
	root, _ := filepath.Abs("../..")
	dir := t.TempDir()
	// A real darwin binary: a stand-in for the app, which needs the macOS SDK.
	os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module standin\n\ngo 1.21\n"), 0o644)
	build := exec.Command("go", "build", "-o", "ultravox-tray", ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOOS=darwin", "GOARCH=arm64", "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("stand-in build: %v\n%s", err, out)
	}
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "macos-bundle.sh"), filepath.Join(dir, "ultravox-tray"), filepath.Join(dir, "out"))
	cmd.Env = append(os.Environ(), "VERSION=1.2.3")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("macos-bundle.sh: %v\n%s", err, out)
	}
	app := filepath.Join(dir, "out", "Ultravox Tray.app", "Contents")
	raw, err := os.ReadFile(filepath.Join(app, "Info.plist"))
	if err != nil {
		t.Fatal(err)
	}
	pl, err := readPlist(raw)
	if err != nil {
		t.Fatalf("Info.plist: %v\n%s", err, raw)
	}
	toml, _ := os.ReadFile(filepath.Join(root, "FyneApp.toml"))
	want := map[string]any{
		"CFBundleIdentifier":         "io.github.ultravox-tray",
		"CFBundleName":               "Ultravox Tray",
		"CFBundleExecutable":         "ultravox-tray",
		"CFBundleIconFile":           "ultravox-tray.icns",
		"CFBundlePackageType":        "APPL",
		"CFBundleShortVersionString": "1.2.3",
		"LSUIElement":                true,
	}
	for k, v := range want {
		if pl[k] != v {
			t.Errorf("%s = %#v, want %#v", k, pl[k], v)
		}
	}
	if !strings.Contains(string(toml), `ID = "`+want["CFBundleIdentifier"].(string)+`"`) {
		t.Errorf("bundle id is not FyneApp.toml's")
	}
	if b, _ := pl["CFBundleVersion"].(string); b == "" || !strings.Contains(string(toml), "Build = "+b) {
		t.Errorf("CFBundleVersion %q is not FyneApp.toml's Build", b)
	}
	if s, _ := pl["NSMicrophoneUsageDescription"].(string); len(s) < 20 {
		t.Errorf("NSMicrophoneUsageDescription %q: macOS refuses the microphone without one", s)
	}
	exe, err := os.Stat(filepath.Join(app, "MacOS", "ultravox-tray"))
	if err != nil || exe.Mode()&0o111 == 0 {
		t.Errorf("executable: %v %v", exe, err)
	}
	f, err := os.Open(filepath.Join(app, "Resources", "ultravox-tray.icns"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := icns.Decode(f)
	if err != nil || img.Bounds().Dx() < 512 {
		t.Errorf("icns: %v (largest image %v)", err, img)
	}
}

func TestReadPlistRejectsBrokenLists(t *testing.T) {
	for _, bad := range []string{
		`<plist><dict><key>A</key></dict></plist>`,
		`<plist><dict><string>x</string></dict></plist>`,
		`<plist><dict><key>A</key><true/><key>A</key><true/></dict></plist>`,
		`<plist><array/></plist>`,
		`<plist><dict><key>A</key><string>x</dict></plist>`,
	} {
		if _, err := readPlist([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}
