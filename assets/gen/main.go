// Command gen writes the tray and application icons drawn by package iconart
// as PNG files into a directory (assets/ when run by `go generate`).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ultravox-tray/ultravox-tray/assets/iconart"
)

func main() {
	dir := flag.String("out", ".", "directory to write the PNG files into")
	flag.Parse()
	if err := iconart.WriteAll(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
